"""The pre-check's faster paths decide what the plain ones did (model/precheck.py,
model/futures_precheck.py). The whole record over fixtures, corpus and shapes is
`benchmarks/verdicts.py --compare`; these hold the pieces on every fixture."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from prefect_lint.model.api import NO_USER_DECORATORS
from prefect_lint.model.precheck import (
    Precheck,
    _FlowArguments,
    _may_be_flow,
)
from prefect_lint.model.relevance import FileFacts, file_facts
from prefect_lint.python_ast import child_nodes, python_tree
from prefect_lint.rules import VISITOR_RULES

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").rglob("*.py"))

# Every list field that may hold something else than nodes, and more.
ODD_SHAPES = """
def f(a, *, b, c=1, **kw):
    global g
    def inner():
        nonlocal a
    d = {**kw, "x": 1}
    match a:
        case Point(x=1, y=[*rest]) as p:
            pass
        case {"k": v, **others}:
            pass
    return [y for y in d if (z := y)], lambda q, *, r: q
"""


def _trees() -> list[ast.Module]:
    texts = [path.read_text(encoding="utf-8") for path in FIXTURES] + [ODD_SHAPES]
    return [tree for tree in map(python_tree, texts) if tree is not None]


def _plain_children(node: ast.AST) -> list[ast.AST]:
    children: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if name in ("ctx", "op", "ops"):  # contexts and operators: leaves no walk needs
            continue
        if isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


def test_child_nodes_are_the_plain_children_in_order() -> None:
    seen: set[type] = set()
    for tree in _trees():
        for node in ast.walk(tree):
            seen.add(type(node))
            assert child_nodes(node) == _plain_children(node), ast.dump(node)[:200]
    assert {ast.Global, ast.Nonlocal, ast.MatchClass, ast.Dict, ast.arguments} <= seen


def _plain_flow_arguments(pre: Precheck) -> tuple[set[str], set[int]]:
    """The names and calls in arguments of calls in possible flows, walked the plain way:
    every possible flow whole, each argument of each call again."""
    copies = any(
        isinstance(call.func, ast.Attribute) and call.func.attr == "with_options"
        for call in pre.calls()
    )
    names: set[str] = set()
    calls: set[int] = set()
    for function, _ in pre.index.functions:
        if not copies and not _may_be_flow(pre, function):
            continue
        for inner in ast.walk(function):
            if isinstance(inner, ast.Call):
                for argument in (*inner.args, *(k.value for k in inner.keywords)):
                    for node in ast.walk(argument):
                        if isinstance(node, ast.Name):
                            names.add(node.id)
                        elif isinstance(node, ast.Call):
                            calls.add(id(node))
    return names, calls


def _parsed_fixtures() -> Iterator[tuple[Path, ast.Module, FileFacts]]:
    """Every fixture Python parses, with its tree and facts."""
    for path in FIXTURES:
        text = path.read_text(encoding="utf-8")
        tree = python_tree(text)
        facts = file_facts(text, tree) if tree is not None else None
        if tree is not None and facts is not None:
            yield path, tree, facts


@pytest.mark.parametrize("project", [False, True])
def test_flow_arguments_in_one_walk_are_the_plain_ones(project: bool) -> None:
    compared = 0
    for path, tree, facts in _parsed_fixtures():
        pre = Precheck(tree, facts, NO_USER_DECORATORS, lambda: project)
        fast = _FlowArguments(pre)
        names, calls = _plain_flow_arguments(pre)
        assert (fast.names, fast.calls) == (names, calls), path
        compared += bool(calls)
    assert compared > 10  # the fixtures do give flows calls as arguments


@pytest.mark.parametrize("project", [False, True])
def test_verdicts_do_not_depend_on_the_order_triggers_are_asked(project: bool) -> None:
    """Triggers share one `Precheck` per file (its cached walks and project answer): each
    verdict must be the same whatever was asked before it."""
    for path, tree, facts in _parsed_fixtures():
        verdicts = []
        for order in (VISITOR_RULES, VISITOR_RULES[::-1]):
            pre = Precheck(tree, facts, NO_USER_DECORATORS, lambda: project)
            verdicts.append({rule.meta.code: rule.trigger(pre) for rule in order})
        assert verdicts[0] == verdicts[1], path
