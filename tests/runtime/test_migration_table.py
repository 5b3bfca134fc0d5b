"""Every row of the migration table, proven on real Prefect 2.20 and on the installed 3.x.

For each `MovedName` row (new rows are picked up automatically):
- the old spelling imports on Prefect 2.20.17, without error (a row whose `old_versions`
  leave out 2.20, a name gone during 2.x, must fail there instead);
- on the installed 3.x it fails or warns exactly as the row's `error` says, when the installed
  release is in the row's `versions` (and imports silently when it is not);
- `new`, when set, is reached on 3.x without error or DeprecationWarning;
- `marks_2x` rows (evidence that code is 2.x code) do not import on 3.x at all, and are not
  in the 3.0.0 wheel either.

How a row's `error` is read: `"<ExceptionType>: <message>"` is the start of the line Python
prints for the exception the old spelling raises (the type's own name, then its message);
`"<WarningCategory>: <message>"` the same for a warning it emits while importing; any other
text is a shim that imports silently, and then `new` must be the same object. The old
spelling is the row's `statement` when the table has one, else `import <old>` when `old` is a
module on 2.20 and `from <module> import <name>` otherwise.

Run: `.venv/bin/python -m pytest -q -m prefect2 tests/runtime/test_migration_table.py`.
"""

from __future__ import annotations

import ast
import re
import zipfile

import pytest

from prefect_lint.model.migration import MOVED_NAMES, MovedName
from prefect_lint.versions import parse_version
from tests.runtime.prefect2 import SnippetResult, prefect_wheel

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]

_ERROR = re.compile(r"^(?P<kind>[A-Z]\w*(?:Error|Exception|Warning)): (?P<text>.+)$", re.S)

# Finds how 2.20 spells the import of a dotted name: `import a.b` for a module, else
# `from a import b`; `result` is the statement, and importing it must work.
_SPELLING = """
import importlib
name = {name!r}
try:
    importlib.import_module(name)
    statement = f"import {{name}}"
except ModuleNotFoundError as exc:
    if exc.name != name:
        raise
    module, _, attribute = name.rpartition(".")
    statement = f"from {{module}} import {{attribute}}"
exec(statement, {{}})
result = statement
"""


def _expression(statement: str) -> str:
    """What an import statement binds, as an expression (`import a.b` -> `a.b`)."""
    return statement.rsplit(" ", 1)[-1]


def _new_code(row: MovedName) -> tuple[str, str] | None:
    """(import code, expression) that reaches `row.new` on 3.x.

    The table's own `new_statement` (`from m import n` then `n.path`) when it has one;
    otherwise `new` is a plain dotted name imported from the part before its last dot."""
    declared = getattr(row, "new_statement", None)
    if declared is not None:
        *imports, expression = declared.strip().splitlines()
        return "\n".join(imports), expression
    if row.new is None:
        return None
    module, _, name = row.new.rpartition(".")
    return f"from {module} import {name}", name


def _printed(kind: str, message: str) -> str:
    # The start of the line Python prints for an exception or a warning.
    return f"{kind}: {message}"


def _deprecations(run: SnippetResult) -> list[str]:
    # Only Prefect's own: the 2.20/3.x dependencies warn about themselves on import.
    return [m for m in run.warned("DeprecationWarning") if "prefect" in m.lower()]


@pytest.mark.parametrize("row", MOVED_NAMES, ids=[row.old for row in MOVED_NAMES])
def test_row_on_both_versions(prefect2, prefect3, row: MovedName) -> None:
    # 2.20: the old spelling works (or, for a name that left during 2.x, fails there too).
    declared = getattr(row, "statement", None)
    if declared is None:
        found = prefect2.run(_SPELLING.format(name=row.old))
        assert found.ok, f"{row.old} does not import on Prefect 2.20:\n{found.describe()}"
        statement = found.value
        assert isinstance(statement, str)
    else:
        statement = declared
        on_2 = prefect2.run(statement)
        if getattr(row, "proven_on_2_20", True):
            assert on_2.ok, f"{statement!r} fails on Prefect 2.20:\n{on_2.describe()}"
        else:
            assert on_2.raised("ImportError"), on_2.describe()

    # 3.x: it fails or warns as the row says.
    on_3 = prefect3.run(statement)
    installed = parse_version(prefect3.version)
    expected = _ERROR.match(row.error)
    if installed not in row.versions:
        assert on_3.ok and not _deprecations(on_3), on_3.describe()
    elif expected is None:
        assert row.change.value == "deprecated", f"{row.old}: error text is not checkable"
        assert on_3.ok, on_3.describe()
        assert not _deprecations(on_3), on_3.describe()
    elif expected["kind"].endswith("Warning"):
        assert on_3.ok, on_3.describe()
        kind = expected["kind"]
        printed = [_printed(kind, message) for message in on_3.warned(kind)]
        assert any(line.startswith(row.error) for line in printed), on_3.describe()
    else:
        assert on_3.exception is not None, on_3.describe()
        printed = _printed(on_3.exception["type"], on_3.exception["message"])
        assert printed.startswith(row.error), on_3.describe()

    if row.marks_2x:
        # Evidence of 2.x code: the spelling must not work on any 3.x we can run.
        assert expected is not None and not expected["kind"].endswith("Warning"), row.error
        assert on_3.exception is not None, on_3.describe()

    new = _new_code(row)
    if new is not None:
        imports, expression = new
        on_3_new = prefect3.run(f"{imports}\nresult = repr({expression})")
        assert on_3_new.ok and not _deprecations(on_3_new), on_3_new.describe()
        if expected is None:
            # A silent alias: the old name is the new object.
            same = prefect3.run(
                f"{statement}\n_old = {_expression(statement)}\n{imports}\n"
                f"result = _old is {expression}"
            )
            assert same.ok and same.value is True, same.describe()


def test_table_is_not_empty() -> None:
    assert len(MOVED_NAMES) >= 6


def _top_level_names(source: str) -> set[str]:
    """Names a module binds at top level, plus the keys of a lazy-import table
    (`prefect/__init__.py`'s `_public_api`)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            if isinstance(node.value, ast.Dict):
                names.update(k.value for k in node.value.keys if isinstance(k, ast.Constant))
    return names


def _exists_in_wheel(wheel: zipfile.ZipFile, dotted: str) -> bool:
    files = set(wheel.namelist())
    path = dotted.replace(".", "/")
    if f"{path}.py" in files or f"{path}/__init__.py" in files:
        return True
    module, _, name = path.rpartition("/")
    for candidate in (f"{module}.py", f"{module}/__init__.py"):
        if candidate in files:
            return name in _top_level_names(wheel.read(candidate).decode())
    return False


@pytest.mark.parametrize(
    "row", [row for row in MOVED_NAMES if row.marks_2x], ids=lambda row: row.old
)
def test_marks_2x_row_is_absent_from_3_0(row: MovedName) -> None:
    # The first 3.x release, read from its published wheel: the name is neither a module
    # nor bound at the top of its module there (3.0.0 routes removed names through
    # `__getattr__`, which binds nothing).
    with zipfile.ZipFile(prefect_wheel("3.0.0")) as wheel:
        # The reader finds names 3.0.0 has (so "absent" below means something).
        assert _exists_in_wheel(wheel, "prefect.task_runners.ThreadPoolTaskRunner")
        assert _exists_in_wheel(wheel, "prefect.flow")
        assert not _exists_in_wheel(wheel, row.old)
