"""The walker: the recursive and iterative walks agree, and deep trees fall back cleanly."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from prefect_lint.config import all_codes
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.walker import Walker

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []
        self.walker: Walker | None = None

    def visit_Call(self, node: cst.Call) -> None:
        assert self.walker is not None
        self.events.append(
            ("visit", cst.Module([]).code_for_node(node), len(self.walker.ancestors))
        )

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.events.append(("leave", node.name.value, 0))

    def visit_Name(self, node: cst.Name) -> None:
        self.events.append(("name", node.value, 0))


def _events(module: cst.Module, iterative: bool) -> list[tuple[str, str, int]]:
    recorder = _Recorder()
    walker = Walker([recorder])
    recorder.walker = walker
    (walker.walk_iterative if iterative else walker.walk)(module)
    assert walker.ancestors == []
    return recorder.events


def test_both_walks_see_the_same_events_in_the_same_order() -> None:
    for path in sorted(FIXTURES.rglob("*.py")):
        if path.parent.name == "PFL000":
            continue
        module = cst.parse_module(path.read_text(encoding="utf-8"))
        if not module.body:
            continue
        recursive = _events(module, iterative=False)
        assert recursive
        assert recursive == _events(module, iterative=True)


def test_too_deep_for_recursion_falls_back_without_duplicates() -> None:
    # Valid Python (unlike 600 nested brackets), and each `+` nests one level deeper in the
    # tree, two frames per level: past the default recursion limit.
    terms = 1500
    source = (
        "from prefect import flow, wait\n"
        f"nested = {' + '.join(['1'] * terms)}\n"
        "@flow\ndef f() -> None:\n    wait([])\n"
    )
    diagnostics = check_source(source, "deep.py", frozenset(all_codes()))
    assert [(d.code, d.start.line) for d in diagnostics] == [("PFL105", 1)]
