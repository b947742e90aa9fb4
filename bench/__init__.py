"""Benchmarks: timing goals live here, never in timed unit tests.

The benchmarks publish through the same emulators the tests use, so they depend on the test
suite as a package (run from the repository root, with the `test` extra installed). They may
import only the helpers named in `TEST_HELPERS`; `tests/test_bench_depends.py` checks it.
"""

# the parts of the test suite the benchmarks drive (nothing else of `tests` is imported)
TEST_HELPERS = ("tests.emulators", "tests.faults", "tests.crash_matrix")
