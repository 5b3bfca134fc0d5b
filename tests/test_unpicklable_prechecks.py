"""The two "may this module build an unpicklable" pre-checks decide different things.

`pickling.mentions_unpicklable_makers` (a text test, for the module summaries that carry a
task's unpicklable return to other modules) and PFL202's gate (`UnpicklableArgument`: a
module-level import of a table package, or an `open(...)` call already visited) are not one
decision: each source below is answered differently by them, and the findings show it.
Giving them one home would add PFL202 findings or drop PFL201 ones.
"""

from __future__ import annotations

import libcst as cst

from prefect_lint.engine.checker import check_source
from prefect_lint.model.exports import summarize
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.pickling import UNPICKLABLE, mentions_unpicklable_makers
from prefect_lint.model.values import Task


def _journal(above: str, in_flow: str, below: str = "") -> str:
    """A flow that passes `value` to a task, with the lines that make `value` placed above
    the module's code, at the top of the flow or below the flow."""
    return f"""\
{above}
from prefect import flow, task


@task
def use(value) -> None:
    pass


@flow
def journal() -> None:
{in_flow}
    use(value)
{below}"""


_LOCK = "    value = threading.Lock()"
# The control: a module-level import opens PFL202's gate.
MODULE_IMPORT = _journal("import threading", _LOCK)
# The same lock, imported inside the flow: the text names `threading`, the gate stays shut.
LOCAL_IMPORT = _journal("", f"    import threading\n{_LOCK}")
# A file opened above the flow, and one opened below it (visited after the flow is left).
OPEN_ABOVE = _journal('value = open("journal.log", "a")', "")
OPEN_BELOW = _journal("", "", 'value = open("journal.log", "a")')


def _pfl202(source: str) -> list[int]:
    found = check_source(source, "journal.py", frozenset({"PFL202"}))
    return [diagnostic.start.line for diagnostic in found]


def _use_line(source: str) -> int:
    return source.splitlines().index("    use(value)") + 1


def test_the_text_test_says_yes_for_every_source() -> None:
    for source in (MODULE_IMPORT, LOCAL_IMPORT, OPEN_BELOW, OPEN_ABOVE):
        assert mentions_unpicklable_makers(source)


def test_the_text_test_says_no_without_open_or_a_table_package() -> None:
    assert not mentions_unpicklable_makers("import json\n\nVALUE = json.loads('[]')\n")


def test_pfl202s_gate_opens_on_module_imports_and_open_calls_above() -> None:
    assert _pfl202(MODULE_IMPORT) == [_use_line(MODULE_IMPORT)]
    assert _pfl202(OPEN_ABOVE) == [_use_line(OPEN_ABOVE)]


def test_pfl202s_gate_stays_shut_where_the_text_test_says_yes() -> None:
    # Known narrowing, kept because this round changes no finding: with the text test as
    # its gate, PFL202 would report both.
    assert _pfl202(LOCAL_IMPORT) == []
    assert _pfl202(OPEN_BELOW) == []


def test_summaries_keep_a_return_built_from_an_import_inside_the_task() -> None:
    """PFL202's gate would shut on this module (no module-level import, no `open`); the
    summary, which carries the return to a flow in another module (PFL201), keeps it."""
    source = """\
from prefect import task


@task
def connect(path: str):
    import sqlite3

    return sqlite3.connect(path)
"""
    model = ModuleModel(cst.parse_module(source), "tasks.py")
    model.source = source  # as the checker sets it: the text test is asked
    connect = summarize(model)["connect"]
    assert isinstance(connect, Task)
    assert connect.unpicklable_return is UNPICKLABLE["sqlite3.connect"]
