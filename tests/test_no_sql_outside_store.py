"""No SQL outside `pipeline/store/`: the program's queries all go through the store contract.

Program code is `pipeline/`, `connectors/` and `bench/` (not `tests/`, and not the alembic
migrations, which are schema changes and SQL by nature). A plain text grep for `select(`
would trip on `soup.select(".x")` and `dict.update(...)`, so the check reads each file's
syntax tree and flags, with its file:line:
- a call of `select`, `update`, `insert`, `delete`, `text` (or `func`, `or_`, `and_`)
  imported from SQLAlchemy, or reached as `sqlalchemy.select(...)`/`sa.select(...)`;
- `.execute(`, `.exec_driver_sql(`, `.scalar(`, `.scalars(` on anything (a session, a
  connection, a DB-API cursor);
- `table.update()`, `table.insert()`, `table.select()`, `table.delete()` (no arguments: a
  dict's `update()` always has one).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("pipeline", "connectors", "bench")
STORE = "pipeline/store/"
MIGRATIONS = "pipeline/migrations/"


SQL_NAMES = {"select", "update", "insert", "delete", "text", "func", "or_", "and_"}
EXECUTING = {"execute", "exec_driver_sql", "scalar", "scalars"}
TABLE_STATEMENTS = {"select", "update", "insert", "delete"}


def sql_lines(source: str) -> list[int]:
    """The line numbers in `source` that build or run SQL (see the module docstring)."""
    tree = ast.parse(source)
    constructs: set[str] = set()  # local names bound to SQLAlchemy's statement builders
    modules: set[str] = set()  # local names bound to the sqlalchemy package itself
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            constructs |= {a.asname or a.name for a in node.names if a.name in SQL_NAMES}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "sqlalchemy"}
    found: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Name) and called.id in constructs:
            found.append(node.lineno)
        elif isinstance(called, ast.Attribute):
            on_module = isinstance(called.value, ast.Name) and called.value.id in modules
            bare_statement = called.attr in TABLE_STATEMENTS and not node.args and not node.keywords
            if (
                (on_module and called.attr in SQL_NAMES)
                or called.attr in EXECUTING
                or bare_statement
            ):
                found.append(node.lineno)
    return sorted(set(found))


def program_files() -> list[str]:
    files = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if not name.startswith((STORE, MIGRATIONS)):
                files.append(name)
    return files


def test_no_module_outside_the_store_builds_or_runs_sql() -> None:
    offenders = [
        f"{name}:{line}"
        for name in program_files()
        for line in sql_lines((ROOT / name).read_text(encoding="utf-8"))
    ]
    assert offenders == [], "SQL outside pipeline/store/ (add a store method): " + ", ".join(
        offenders
    )


def test_the_check_finds_each_kind_of_sql_and_not_look_alikes() -> None:
    flagged = """\
from sqlalchemy import select as pick, text, update
import sqlalchemy as sa
rows = session.execute(pick(Row))
one = session.scalar(q)
conn.exec_driver_sql("PRAGMA x")
heartbeat.update().where(ok)
stmt = update(Row)
raw = text("SELECT 1")
built = sa.insert(Row)
cursor.execute("SELECT 1")
"""
    assert sql_lines(flagged) == [3, 4, 5, 6, 7, 8, 9, 10]
    look_alikes = """\
def text(value):
    return value
options.update({"a": 1})
soup.select(".post")
items.insert(0, item)
text("no sqlalchemy import here")
"""
    assert sql_lines(look_alikes) == []
