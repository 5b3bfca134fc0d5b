"""Property: whenever a rule's trigger says "no" for a generated flow, the full check reports
nothing of that rule. The flows come from a small grammar of what futures code does: submits
and maps into names, lists, appends and comprehensions, branches, loops, `try`, early exits,
waits of every kind, direct task calls, and futures used as values."""

from __future__ import annotations

import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefect_lint.engine import checker
from prefect_lint.model.api import NO_USER_DECORATORS
from prefect_lint.model.precheck import Precheck
from prefect_lint.model.relevance import file_facts
from prefect_lint.python_ast import python_tree
from prefect_lint.rules import VISITOR_RULES
from tests.test_precheck import HEADER

ALL_CODES = frozenset(rule.meta.code for rule in VISITOR_RULES)


FUTURES = ("f", "g")
LISTS = ("fs", "pending")
VALUES = ("v", "w")

future = st.sampled_from(FUTURES)
collection = st.sampled_from(LISTS)
value = st.sampled_from(VALUES)
anything = st.sampled_from(FUTURES + LISTS + VALUES + ("1", "n"))


@st.composite
def simple(draw: st.DrawFn) -> str:
    """One simple statement."""
    kind = draw(st.integers(0, 27))
    f, fs, v, x = draw(future), draw(collection), draw(value), draw(anything)
    return [
        f"{f} = t.submit({x})",
        f"{f} = t.map([1, 2])",
        f"{fs} = []",
        f"{fs}.append(t.submit({x}))",
        f"{fs} = [t.submit(i) for i in range(2)]",
        f"{f}.result()",
        f"{f}.wait()",
        f"wait({f})",
        f"wait([{f}])",
        f"wait({fs})",
        f"{v} = {f}.result()",
        f"{v} = [r.result() for r in {fs}]",
        f"{v} = t({x})",
        f"{v}.result()",
        f"{v} = {f}.state",
        f"{v} = {f}['k']",
        f"print({f})",
        f"t.submit({x})",
        f"{v} = u.submit({f})",
        f"{v} = {f}.wait()",
        f"{v} = [t.submit(i).result() for i in range(2)]",
        f"{f} = t.submit({x}, return_state=True)",
        f"{f} = {v}",
        f"{v} = {x}",
        "a(1)",
        f"{v} = {fs}[0]",
        f"{v} = list({fs})",
        f"return {x}",
    ][kind]


@st.composite
def block(draw: st.DrawFn, depth: int, in_loop: bool) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 14 if depth > 0 else 5))
        if choice <= 4:
            lines.append(draw(simple()))
        elif choice == 5:
            exits = ["return", "raise ValueError('x')"] + (["break", "continue"] if in_loop else [])
            lines.append(draw(st.sampled_from(exits)))
        else:
            inner = depth - 1
            if choice in (6, 7):
                lines.append("if n:")
                lines += _indent(draw(block(inner, in_loop)))
                if draw(st.booleans()):
                    lines.append("else:")
                    lines += _indent(draw(block(inner, in_loop)))
            elif choice in (8, 9):
                lines.append(f"for i in {draw(st.sampled_from(['range(3)', *LISTS]))}:")
                lines += _indent(draw(block(inner, in_loop=True)))
            elif choice == 10:
                lines.append("while n:")
                lines += _indent(draw(block(inner, in_loop=True)))
            elif choice == 11:
                lines.append(f"for r in as_completed({draw(collection)}):")
                lines += _indent(["r.result()", *draw(block(inner, in_loop=True))])
            else:
                lines.append("try:")
                lines += _indent(draw(block(inner, in_loop)))
                handlers = draw(st.sampled_from(["except", "finally", "both"]))
                if handlers in ("except", "both"):
                    lines.append("except ValueError:")
                    lines += _indent(draw(block(inner, in_loop)))
                if handlers in ("finally", "both"):
                    lines.append("finally:")
                    lines += _indent(draw(block(inner, in_loop)))
    return lines


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


@st.composite
def flows(draw: st.DrawFn) -> str:
    body = draw(block(depth=2, in_loop=False))
    decorator = draw(st.sampled_from(["@flow", "@flow(log_prints=True)", "@task", ""]))
    asynchronous = draw(st.sampled_from(["", "async "]))
    source = HEADER + f"{decorator}\n{asynchronous}def etl(n):\n"
    return source + textwrap.indent("\n".join(body), "    ") + "\n"


@settings(
    max_examples=700,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(flows())
def test_a_trigger_that_says_no_means_no_finding(source: str) -> None:
    tree = python_tree(source)
    assert tree is not None, source
    facts = file_facts(source, tree)
    assert facts is not None
    precheck = Precheck(tree, facts, NO_USER_DECORATORS)
    silent = {rule.meta.code for rule in VISITOR_RULES if not rule.trigger(precheck)}
    found = {d.code for d in checker.check_source(source, "job.py", ALL_CODES)}
    assert not (silent & found), f"triggers said no for {sorted(silent & found)}:\n{source}"
