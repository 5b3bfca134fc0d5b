"""Every row of the migration table, proven on real Prefect 2.20 and on the installed 3.x.

For each `MovedName` row (new rows are picked up automatically):
- the old spelling imports on Prefect 2.20.17, without error;
- on the installed 3.x it fails or warns exactly as the row's `error` says, when the installed
  release is in the row's `versions` (and imports silently when it is not);
- `new`, when set, imports on 3.x without error or DeprecationWarning;
- `marks_2x` rows (evidence that code is 2.x code) do not import on 3.x at all.

How a row's `error` is read: `"<ExceptionType>: <text>"` means importing the old spelling
raises that type (or a subclass) and its message contains `<text>`;
`"<WarningCategory>: <text>"` means it imports but warns so; any other text is a shim that
imports silently (`"still importable as a silent alias ..."`), and then `new` must be the same
object. The old spelling is `import <old>` when `old` is a module on 2.20, else
`from <module> import <name>`.

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

_IDENTITY = """
{old}
_old = {old_name}
{new}
result = _old is {new_name}
"""


# Rows the runs prove wrong, as found on 2026-12-01 (strict: fixing the row makes the xfail
# fail, so this list cannot go stale). Each reason is what the run shows.
KNOWN_WRONG = {
    "prefect.infrastructure": (
        "3.x still has the module prefect.infrastructure (provisioners): `import "
        "prefect.infrastructure` works on 3.9; its 2.x members fail with a plain ImportError "
        "(`from prefect.infrastructure import Process`: cannot import name 'Process')"
    ),
    "prefect.agent": (
        "3.x keeps prefect.agent as a stub module: `import prefect.agent` works on 3.9; "
        "`from prefect.agent import PrefectAgent` raises PrefectImportError "
        "'`prefect.agent:PrefectAgent` has been removed. Use workers instead.'"
    ),
    "prefect.orion": (
        "prefect.orion is gone on 2.20.17 too (ImportError: cannot import name 'orion' from "
        "'prefect'): it marks code older than 2.10, not code that runs on 2.20"
    ),
}


def _params() -> list[object]:
    return [
        pytest.param(
            row,
            id=row.old,
            marks=(
                [pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[row.old])]
                if row.old in KNOWN_WRONG
                else []
            ),
        )
        for row in MOVED_NAMES
    ]


def _statement(name: str, module_form: bool) -> tuple[str, str]:
    """The import statement for `name` and the expression naming what it bound."""
    if module_form:
        return f"import {name}", name
    module, _, attribute = name.rpartition(".")
    return f"from {module} import {attribute}", attribute


def _deprecations(run: SnippetResult) -> list[str]:
    # Only Prefect's own: the 2.20/3.x dependencies warn about themselves on import.
    return [m for m in run.warned("DeprecationWarning") if "prefect" in m.lower()]


@pytest.mark.parametrize("row", _params())
def test_row_on_both_versions(prefect2, prefect3, row: MovedName) -> None:
    # 2.20: the old spelling works.
    found = prefect2.run(_SPELLING.format(name=row.old))
    assert found.ok, f"{row.old} does not import on Prefect 2.20:\n{found.describe()}"
    statement = found.value
    assert isinstance(statement, str)

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
        messages = on_3.warned(expected["kind"])
        assert any(expected["text"] in message for message in messages), on_3.describe()
    else:
        assert on_3.raised(expected["kind"]), on_3.describe()
        assert expected["text"] in (on_3.error_message or ""), on_3.describe()

    if row.marks_2x:
        # Evidence of 2.x code: the spelling must not work on any 3.x we can run.
        assert expected is not None and not expected["kind"].endswith("Warning"), row.error
        assert on_3.exception is not None, on_3.describe()

    if row.new is not None:
        new_statement, new_name = _statement(row.new, module_form=False)
        on_3_new = prefect3.run(new_statement)
        assert on_3_new.ok and not _deprecations(on_3_new), on_3_new.describe()
        if expected is None:
            # A silent alias: the old name is the new object.
            old_name = statement.rsplit(" ", 1)[-1]
            same = prefect3.run(
                _IDENTITY.format(
                    old=statement, old_name=old_name, new=new_statement, new_name=new_name
                )
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
    "row",
    [
        pytest.param(
            row,
            id=row.old,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[row.old])]
            if row.old in ("prefect.infrastructure", "prefect.agent")
            else [],
        )
        for row in MOVED_NAMES
        if row.marks_2x
    ],
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
