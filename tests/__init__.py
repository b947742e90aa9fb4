"""The test suite, a package because the benchmarks (bench/) drive part of it.

What bench/ may import from here is declared in `bench.TEST_HELPERS`: the emulators
(`tests.emulators`), the fault campaign (`tests.faults`) and the crash matrix
(`tests.crash_matrix`), with what they import in turn (the contract harness, the daemon
helpers). Those modules stay free of pytest, so a benchmark runs without the test runner;
`tests/test_bench_depends.py` holds both rules.
"""
