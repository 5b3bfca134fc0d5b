"""Hypothesis strategies that build Prefect modules out of small, reusable building blocks.

`prefect_modules()` draws a whole module: a header (docstring, `__future__` import, ...), one
or more import forms, task and flow definitions, parent flows whose bodies submit, map, wait
on and resolve futures, and some module-level code. Every module it draws compiles.

To cover a new rule, add import forms to `IMPORT_FORMS`, definition forms to
`task_definition` / `flow_definition`, or statement kinds to `SIMPLE_STATEMENTS` /
`COMPOUND_STATEMENTS` (each is `(draw, scope, depth) -> list[str]`, lines relative to the
current indentation; `scope` says which tasks, flows and futures exist so far).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from hypothesis import strategies as st

# -- imports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportForm:
    """Import lines plus the expressions they make usable for flows, tasks and futures."""

    lines: tuple[str, ...]
    flow: tuple[str, ...] = ()
    task: tuple[str, ...] = ()
    wait: tuple[str, ...] = ()
    as_completed: tuple[str, ...] = ()


def _form(*lines: str, **refs: tuple[str, ...]) -> ImportForm:
    return ImportForm(tuple(lines), **refs)


IMPORT_FORMS: tuple[ImportForm, ...] = (
    _form("from prefect import flow, task", flow=("flow",), task=("task",)),
    _form("from prefect import flow", flow=("flow",)),
    _form("from prefect import task", task=("task",)),
    _form(
        "from prefect import flow as make_flow, task as make_task",
        flow=("make_flow",),
        task=("make_task",),
    ),
    _form("from prefect import flow, task, wait", flow=("flow",), task=("task",), wait=("wait",)),
    _form(
        "from prefect import (",
        "    flow,",
        "    wait,",
        "    as_completed,  # trailing comment",
        ")",
        flow=("flow",),
        wait=("wait",),
        as_completed=("as_completed",),
    ),
    _form(
        "from prefect import as_completed, wait as wait_all",
        wait=("wait_all",),
        as_completed=("as_completed",),
    ),
    _form("from prefect import wait", wait=("wait",)),
    _form("from prefect import wait  # noqa: PFL105", wait=("wait",)),
    _form("from prefect import wait, as_completed", wait=("wait",), as_completed=("as_completed",)),
    _form(
        "import prefect",
        flow=("prefect.flow",),
        task=("prefect.task",),
        wait=("prefect.wait", "prefect.futures.wait"),
        as_completed=("prefect.as_completed",),
    ),
    _form("import prefect as pf", flow=("pf.flow",), task=("pf.task",), wait=("pf.wait",)),
    _form(
        "import prefect.futures",
        flow=("prefect.flow",),
        wait=("prefect.futures.wait",),
        as_completed=("prefect.futures.as_completed",),
    ),
    _form("import prefect.flows as pflows", flow=("pflows.flow",)),
    _form("from prefect.flows import flow", flow=("flow",)),
    _form("from prefect.tasks import task", task=("task",)),
    _form(
        "from prefect.futures import wait, as_completed",
        wait=("wait",),
        as_completed=("as_completed",),
    ),
    _form("from prefect.futures import wait as wait_all", wait=("wait_all",)),
    _form(
        "try:",
        "    from prefect import wait",
        "except ImportError:",
        "    from prefect.futures import wait",
        wait=("wait",),
    ),
    _form("from prefect import *", flow=("flow",), task=("task",)),
    _form("from prefect.task_runners import ThreadPoolTaskRunner"),
    _form("from prefect.task_runners import ProcessPoolTaskRunner"),
    _form("import threading, sqlite3"),
    _form("from prefect.deployments import run_deployment"),
    _form("import asyncio", wait=("asyncio.wait",)),
    _form("from concurrent.futures import wait as cf_wait", wait=("cf_wait",)),
    _form("import contextlib"),
)


@dataclass
class Names:
    """The expressions a module's imports make usable (and a few that are left unbound)."""

    flow: list[str] = field(default_factory=list)
    task: list[str] = field(default_factory=list)
    wait: list[str] = field(default_factory=list)
    as_completed: list[str] = field(default_factory=list)

    def add(self, form: ImportForm) -> None:
        for attribute in ("flow", "task", "wait", "as_completed"):
            for ref in getattr(form, attribute):
                if ref not in getattr(self, attribute):
                    getattr(self, attribute).append(ref)


@st.composite
def import_block(draw: st.DrawFn) -> tuple[list[str], Names]:
    """Zero or more import forms; the bare names are always usable, bound or not."""
    # Usually one form that gives both `flow` and `task` (rules need both to see anything).
    primary = [form for form in IMPORT_FORMS if form.flow and form.task]
    forms = [draw(st.sampled_from(primary))] if draw(st.integers(0, 4)) else []
    forms += draw(st.lists(st.sampled_from(IMPORT_FORMS), max_size=3, unique=True))
    forms = list(dict.fromkeys(forms))
    names = Names()
    lines: list[str] = []
    for form in forms:
        lines.extend(form.lines)
        names.add(form)
    # Unbound fallbacks: `@flow` with no import, `wait(...)` with no import (PFL105).
    for attribute, bare in (
        ("flow", "flow"),
        ("task", "task"),
        ("wait", "wait"),
        ("as_completed", "as_completed"),
    ):
        refs = getattr(names, attribute)
        if not refs:
            refs.append(bare)
    if "wait" not in names.wait and draw(st.booleans()):
        names.wait.append("wait")
    return lines, names


# -- what the body of a function can see -----------------------------------------------------


@dataclass
class Scope:
    """What exists while a body is drawn: imports, tasks, flows and the futures made so far."""

    names: Names
    tasks: list[str]
    flows: list[str]  # plain flows: `.submit()` on them raises (PFL101)
    safe_flows: list[str]  # task-wrapped or infrastructure-bound flows: `.submit()` works
    counter: Iterator[int]
    futures: list[str] = field(default_factory=list)
    future_lists: list[str] = field(default_factory=list)
    is_async: bool = False
    in_function: bool = True
    in_loop: bool = False  # `break` / `continue` allowed

    def fresh(self, prefix: str = "x") -> str:
        return f"{prefix}{next(self.counter)}"

    def child(self, *, is_async: bool | None = None, in_loop: bool | None = None) -> Scope:
        """The scope of a nested block (`in_loop`) or, with `is_async`, a nested function."""
        return Scope(
            names=self.names,
            tasks=self.tasks,
            flows=self.flows,
            safe_flows=self.safe_flows,
            counter=self.counter,
            futures=list(self.futures),
            future_lists=list(self.future_lists),
            is_async=self.is_async if is_async is None else is_async,
            in_function=self.in_function,
            in_loop=self.in_loop if in_loop is None else in_loop,
        )


StatementKind = Callable[[st.DrawFn, Scope, int], list[str]]


def _pick(draw: st.DrawFn, options: list[str], fallback: str) -> str:
    return draw(st.sampled_from(options)) if options else fallback


def _task(draw: st.DrawFn, scope: Scope) -> str:
    return _pick(draw, scope.tasks, "undefined_task")


def _flow(draw: st.DrawFn, scope: Scope) -> str:
    return _pick(draw, scope.flows, "undefined_flow")


def _future(draw: st.DrawFn, scope: Scope) -> str:
    """An expression that is a future: a variable holding one, or a fresh `.submit()`."""
    if scope.futures and draw(st.booleans()):
        return draw(st.sampled_from(scope.futures))
    return f"{_task(draw, scope)}.submit()"


def _future_list(draw: st.DrawFn, scope: Scope) -> str:
    choices = [*scope.future_lists]
    if scope.futures:
        choices.append("[" + ", ".join(scope.futures[:3]) + "]")
    choices.append(f"[{_task(draw, scope)}.submit(i) for i in range(2)]")
    return draw(st.sampled_from(choices))


def _arguments(draw: st.DrawFn, scope: Scope) -> str:
    options = ["", "1", "n=2", "1, ", "*[1]", "**{'n': 1}", "threading.Lock()"]
    if scope.futures:
        options.append(scope.futures[-1])
    return draw(st.sampled_from(options))


# -- simple statements (one logical line, maybe several physical ones) -----------------------


def submit_task(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    name, task, args = scope.fresh(), _task(draw, scope), _arguments(draw, scope)
    form = draw(st.integers(0, 3))
    scope.futures.append(name)
    if form == 0:
        return [f"{name} = {task}.submit({args})"]
    if form == 1:
        return [f"{name} = {task}.submit(", "    1,", ")"]
    if form == 2:
        return [f"{name} = {task}.with_options(name='copy').submit({args})"]
    scope.futures.pop()
    return [f"{task}.submit({args})"]


def map_task(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    name, task = scope.fresh("xs"), _task(draw, scope)
    iterable = draw(st.sampled_from(["[1, 2, 3]", "range(3)", "[]", "n=[1, 2]"]))
    scope.future_lists.append(name)
    return [f"{name} = {task}.map({iterable})"]


def submit_flow(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """`.submit()` / `.map()` on flows, plus the near misses that are fine."""
    flow, name, args = _flow(draw, scope), scope.fresh(), _arguments(draw, scope)
    task = draw(st.sampled_from(scope.names.task))
    options = [
        f"{flow}.submit({args})",
        f"{name} = {flow}.submit({args})",
        f"{name} = {flow}.map([1, 2])",
        f"{name} = {flow}.with_options(name='w').submit({args})",
        f"{name} = [{flow}.submit(i) for i in range(2)]",
        f"{name} = {task}({flow}).submit({args})",
        f"{name} = {flow}({args})",
        f"{name} = {flow}.submit(\n    {args}\n)",
        f"print({flow}.submit({args}).result())",
        f"{name} = {flow}.submit  # not called",
    ]
    if scope.safe_flows:
        options.append(f"{name} = {draw(st.sampled_from(scope.safe_flows))}.submit({args})")
    if scope.is_async:
        options.append(f"{name} = await {flow}.submit({args})")
        options.append(f"{name} = await asyncio.gather({flow}(1), {flow}(2))")
    line = draw(st.sampled_from(options))
    if line.startswith(f"{name} = ") and ".submit(" in line and "[" not in line:
        scope.futures.append(name)
    return line.split("\n")


def resolve(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    future = _future(draw, scope)
    options = [
        f"{future}.result()",
        f"{scope.fresh('r')} = {future}.result(timeout=5)",
        f"print({future}.result(raise_on_failure=False))",
        f"{scope.fresh('r')} = [f.result() for f in {_future_list(draw, scope)}]",
        f"{future}.wait()",
    ]
    return [draw(st.sampled_from(options))]


def wait_call(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    wait = draw(st.sampled_from(scope.names.wait))
    futures = _future_list(draw, scope)
    options = [
        f"{wait}({futures})",
        f"{scope.fresh('done')} = {wait}({futures}, timeout=10)",
        f"{wait}(f for f in {futures})",
        f"done, not_done = {wait}({futures})",
        f"{wait}(\n    {futures},\n)",
        f"{wait}({_future(draw, scope)})",
        f"{wait}({_future(draw, scope)}, timeout=1)",
    ]
    return draw(st.sampled_from(options)).split("\n")


def comprehension(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    name, task = scope.fresh("xs"), _task(draw, scope)
    line = draw(
        st.sampled_from(
            [
                f"{name} = [{task}.submit(i) for i in range(3)]",
                f"{name} = [{task}.submit(i) for i in range(3) if i]",
                f"{name} = {{i: {task}.submit(i) for i in range(2)}}",
                f"{name} = list({task}.submit(i) for i in range(2))",
                f"{name} = [[{task}.submit(j) for j in range(i)] for i in range(2)]",
                f"{scope.fresh('r')} = [{task}.submit(i).result() for i in range(3)]",
                f"{scope.fresh('r')} = [{task}.submit(i).result(timeout=1) for i in range(3) if i]",
                f"{scope.fresh('r')} = {{i: {task}.submit(i).result() for i in range(3)}}",
                f"{scope.fresh('r')} = sum({task}.submit(i).result() for i in range(3))",
            ]
        )
    )
    if line.startswith(f"{name} = ["):
        scope.future_lists.append(name)
    return [line]


def misc(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    options = [
        "pass",
        "print('step')",
        f"{scope.fresh('v')} = 1",
        "# a comment line",
        "...",
        f"{scope.fresh('run')} = lambda: {_flow(draw, scope)}.submit(1)",
        f"assert {_future(draw, scope)} is not None",
        f"{scope.fresh('lock')} = threading.Lock()",
        "run_deployment('etl/child', parameters={'n': 1})",
        "for _region in range(2):\n    run_deployment('etl/child', timeout=600)",
    ]
    if scope.in_function:
        options += [
            "task = None",
            "wait = print",
            "(task := None)",
        ]
    if scope.is_async:
        options.append("await asyncio.sleep(0)")
    return draw(st.sampled_from(options)).split("\n")


def local_import(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """Imports inside a function (module-level ones come from `IMPORT_FORMS`)."""
    if not scope.in_function:
        return ["import prefect"]
    options = [
        "from prefect import wait",
        "from prefect import flow, wait",
        "from prefect import wait as w, task",
        "from prefect import as_completed, flow",
        "from prefect.futures import wait",
        "from prefect import task",
        "import prefect",
    ]
    return [draw(st.sampled_from(options))]


def direct_call(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """Calling a task directly: its value, not a future (PFL104; PFL107 for async tasks)."""
    name, task, args = scope.fresh("d"), _task(draw, scope), _arguments(draw, scope)
    form = draw(st.integers(0, 3))
    if form == 0:
        return [f"{task}({args})"]
    if form == 1:
        return [f"{name} = await {task}({args})" if scope.is_async else f"{task}({args})"]
    scope.futures.append(name)  # later statements treat it as a future: that is the bug
    use = draw(
        st.sampled_from(
            ["", f"{name}.result()", f"{name}.wait()", f"print({name}.result())", f"wait([{name}])"]
        )
    )
    return [f"{name} = {task}({args})", *([use] if use else [])]


def value_use(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """A future used as if it were its value (PFL108), and uses that are fine."""
    future = draw(st.sampled_from(scope.futures)) if scope.futures else _future(draw, scope)
    name = scope.fresh("v")
    options = [
        f"{name} = {future}['rows']",
        f"{name} = {future}.rows",
        f"{name} = {future} + 1",
        f"{name} = len({future})",
        f"{name} = {future}.state",
        f"{name} = {future}.task_run_id",
        f"print({future})",
        f"{name} = {{'a': {future}}}",
        f"{name} = [{future}, {future}]",
    ]
    return [draw(st.sampled_from(options))]


def unpacking(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """Futures bound in other ways than `name = ...`."""
    task = _task(draw, scope)
    a, b = scope.fresh(), scope.fresh()
    options = [
        (f"{a}, {b} = {task}.submit(1), {task}.submit(2)", [a, b], []),
        (f"{a} = {b} = {task}.submit()", [a, b], []),
        (f"{a}: object = {task}.submit()", [a], []),
        (f"{a} = [{task}.submit()]; {a}.append({task}.submit())", [], [a]),
        (f"{a} = []; {a} += [{task}.submit()]", [], [a]),
        (f"{a} = {{}}; {a}['k'] = {task}.submit()", [], []),
        (f"[{a}, *{b}] = [{task}.submit(), {task}.submit()]", [a], [b]),
        (f"{a} = {task}.submit() if {task} else None", [a], []),
    ]
    line, futures, lists = draw(st.sampled_from(options))
    scope.futures.extend(futures)
    scope.future_lists.extend(lists)
    if scope.futures and draw(st.integers(0, 4)) == 0:
        return [line, f"del {scope.futures.pop()}"]
    return [line]


def exit_statement(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """Where a function or loop is left early (PFL102's fix waits before each exit)."""
    options = ["raise ValueError('stop')"]
    if scope.in_function:
        options += ["return", "return None", f"return {_future(draw, scope)}"]
        if scope.futures:
            options.append(f"return {scope.futures[-1]}.result()")
            options.append(f"return [{', '.join(scope.futures[:2])}]")
    if scope.in_loop:
        options += ["break", "continue"]
    return [draw(st.sampled_from(options))]


SIMPLE_STATEMENTS: list[StatementKind] = [
    local_import,
    direct_call,
    value_use,
    unpacking,
    exit_statement,
    submit_task,
    map_task,
    submit_flow,
    submit_flow,
    resolve,
    wait_call,
    wait_call,
    comprehension,
    misc,
]


@st.composite
def simple_statement(draw: st.DrawFn, scope: Scope) -> list[str]:
    lines = draw(st.sampled_from(SIMPLE_STATEMENTS))(draw, scope, 0)
    if len(lines) == 1 and not lines[0].startswith("#"):
        extra = draw(st.integers(0, 5))
        if extra == 0:
            other = draw(st.sampled_from(SIMPLE_STATEMENTS))(draw, scope, 0)
            if len(other) == 1 and not other[0].startswith("#"):
                lines = [f"{lines[0]}; {other[0]}"]
        elif extra == 1:
            comment = draw(st.sampled_from(["# noqa", "# noqa: PFL101", "# noqa: PFL105", "# x"]))
            lines = [f"{lines[0]}  {comment}"]
    return lines


# -- compound statements ---------------------------------------------------------------------


def indent(lines: list[str], unit: str = "    ") -> list[str]:
    return [unit + line if line else line for line in lines]


def block(draw: st.DrawFn, scope: Scope, depth: int, *, max_size: int = 4) -> list[str]:
    """A non-empty, indented body."""
    count = draw(st.integers(1, max_size))
    lines: list[str] = []
    for _ in range(count):
        lines.extend(draw(statement(scope, depth)))
    if all(line.lstrip().startswith("#") or not line.strip() for line in lines):
        lines.append("pass")
    return indent(lines)


def for_loop(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    header = draw(
        st.sampled_from(
            [
                "for i in range(3):",
                f"for {scope.fresh('f')} in {_future_list(draw, scope)}:",
                f"for f in {draw(st.sampled_from(scope.names.as_completed))}("
                f"{_future_list(draw, scope)}):",
                "while False:",
                "while True:",
            ]
        )
    )
    inner = scope.child(in_loop=True)
    body: list[str] = []
    if draw(st.integers(0, 2)) == 0:
        # Submit and resolve in the same iteration (PFL103).
        name = scope.fresh("y")
        body = [f"{name} = {_task(draw, scope)}.submit(i)", f"{name}.result()"]
    body = [*indent(body), *block(draw, inner, depth - 1)]
    if header == "while True:":
        body.append("    break")
    lines = [header, *body]
    if draw(st.integers(0, 3)) == 0:
        lines += ["else:", *block(draw, scope.child(), depth - 1, max_size=1)]
    return lines


def if_statement(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    condition = draw(
        st.sampled_from(
            [
                "True",
                f"({scope.fresh('w')} := {_task(draw, scope)}.submit(1)) is not None",
                f"{_future(draw, scope)}.result()",
            ]
        )
    )
    lines = [f"if {condition}:", *block(draw, scope.child(), depth - 1)]
    if draw(st.booleans()):
        lines += ["elif False:", *block(draw, scope.child(), depth - 1, max_size=1)]
    if draw(st.booleans()):
        lines += ["else:", *block(draw, scope.child(), depth - 1)]
    return lines


def try_statement(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    lines = ["try:", *block(draw, scope.child(), depth - 1)]
    handler = draw(st.sampled_from(["except Exception:", "except ImportError:", "except:", ""]))
    if handler:
        lines += [handler, *block(draw, scope.child(), depth - 1, max_size=2)]
    if not handler or draw(st.booleans()):
        lines += ["finally:", *block(draw, scope.child(), depth - 1, max_size=1)]
    return lines


def with_statement(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    manager = draw(
        st.sampled_from(
            ["contextlib.suppress(Exception)", "prefect.tags('a')", "open('f') as handle"]
        )
    )
    return [f"with {manager}:", *block(draw, scope.child(), depth - 1)]


def match_statement(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    return [
        f"match {_future(draw, scope)}:",
        "    case None:",
        *indent(block(draw, scope.child(), depth - 1, max_size=2)),
        "    case _:",
        *indent(block(draw, scope.child(), depth - 1, max_size=1)),
    ]


def nested_def(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    name = scope.fresh("helper")
    inner = scope.child(is_async=False, in_loop=False)
    body = block(draw, inner, depth - 1, max_size=3)
    lines = [f"def {name}(n=0):", *body]
    if draw(st.booleans()):
        lines.append(f"{name}()")
    return lines


def inline_suite(draw: st.DrawFn, scope: Scope, depth: int) -> list[str]:
    """A compound statement on one line: `if x: a; b` (a suite, not an indented block)."""
    header = draw(
        st.sampled_from(
            [
                "if True:",
                "for i in range(2):",
                "while False:",
                "with contextlib.suppress(Exception):",
                f"def {scope.fresh('helper')}():",
            ]
        )
    )
    if header.startswith("def"):
        inner = scope.child(is_async=False, in_loop=False)
    else:
        inner = scope.child(in_loop=True if header.startswith(("for", "while")) else None)
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        lines = draw(st.sampled_from(SIMPLE_STATEMENTS))(draw, inner, 0)
        if len(lines) == 1 and "#" not in lines[0]:
            parts.append(lines[0])
    return [f"{header} {'; '.join(parts or ['pass'])}"]


COMPOUND_STATEMENTS: list[StatementKind] = [
    inline_suite,
    for_loop,
    for_loop,
    if_statement,
    try_statement,
    with_statement,
    match_statement,
    nested_def,
]


@st.composite
def statement(draw: st.DrawFn, scope: Scope, depth: int = 2) -> list[str]:
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(COMPOUND_STATEMENTS))(draw, scope, depth)
    return draw(simple_statement(scope))


@st.composite
def function_body(draw: st.DrawFn, scope: Scope, max_size: int = 6) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, max_size))):
        lines.extend(draw(statement(scope)))
        if draw(st.integers(0, 5)) == 0:
            lines.append("")
    if draw(st.booleans()):
        lines.append(f"return {_future(draw, scope)}" if scope.futures else "return None")
    if all(line.lstrip().startswith("#") or not line.strip() for line in lines):
        lines.append("pass")
    return lines


# -- definitions -----------------------------------------------------------------------------


def _decorator(draw: st.DrawFn, ref: str, name: str) -> list[str]:
    return draw(
        st.sampled_from(
            [
                [f"@{ref}"],
                [f"@{ref}()"],
                [f"@{ref}(name='{name}', retries=1)"],
                [f"@{ref}(", f"    name='{name}',", ")"],
            ]
        )
    )


@st.composite
def task_definition(draw: st.DrawFn, names: Names, name: str, previous: list[str]) -> list[str]:
    ref = draw(st.sampled_from(names.task))
    keyword = draw(st.sampled_from(["def", "async def"]))
    form = draw(st.integers(0, 3 if previous else 2))
    if form == 2:
        return [f"{keyword} _{name}(n=0):", "    return n", "", "", f"{name} = {ref}(_{name})"]
    if form == 3 and draw(st.booleans()):
        # A value no process can send back (PFL201 when a process-pool flow submits it).
        made = draw(st.sampled_from(["threading.Lock()", "sqlite3.connect(':memory:')"]))
        return [*_decorator(draw, ref, name), f"{keyword} {name}(n=0):", f"    return {made}"]
    if form == 3:
        return [f"{name} = {draw(st.sampled_from(previous))}.with_options(name='{name}')"]
    return [*_decorator(draw, ref, name), f"{keyword} {name}(n: int = 0) -> int:", "    return n"]


@st.composite
def flow_definition(
    draw: st.DrawFn, names: Names, name: str, previous: list[str], extra_imports: set[str]
) -> tuple[list[str], bool]:
    """A child flow; the flag says whether `.submit()` on it is fine (task-wrapped, infra)."""
    ref = draw(st.sampled_from(names.flow))
    keyword = draw(st.sampled_from(["def", "async def"]))
    body = [f"{keyword} {name}(n: int = 0) -> int:", "    return n"]
    form = draw(st.integers(0, 6 if previous else 5))
    if form == 0:
        return [*_decorator(draw, ref, name), *body], False
    if form == 1:
        return [
            f"{keyword} _{name}(n=0):",
            "    return n",
            "",
            "",
            f"{name} = {ref}(_{name})",
        ], False
    if form == 2:
        plain = [f"{keyword} _{name}(n=0):", "    return n", "", ""]
        return [*plain, f"{name} = {ref}(name='{name}')(_{name})"], False
    if form == 3:
        task = draw(st.sampled_from(names.task))
        return [f"@{task}", *_decorator(draw, ref, name), *body], True
    if form == 4:
        extra_imports.add("from prefect_kubernetes import kubernetes")
        return ["@kubernetes(work_pool='k8s')", f"@{ref}", *body], True
    if form == 5:
        runner = draw(
            st.sampled_from(
                ["ThreadPoolTaskRunner(max_workers=2)", "ProcessPoolTaskRunner(max_workers=2)"]
            )
        )
        return [f"@{ref}(task_runner={runner})", *body], False
    return [f"{name} = {draw(st.sampled_from(previous))}.with_options(name='{name}')"], False


@st.composite
def parent_flow(draw: st.DrawFn, scope: Scope, name: str) -> list[str]:
    ref = draw(st.sampled_from(scope.names.flow))
    keyword = draw(st.sampled_from(["def", "async def"]))
    parameters = draw(st.sampled_from(["", "n: int = 1", "task: str = ''", "wait=None"]))
    body = draw(function_body(scope.child(is_async=keyword == "async def")))
    decorator = _decorator(draw, ref, name)
    if draw(st.integers(0, 3)) == 0:
        decorator = [f"@{ref}(task_runner=ProcessPoolTaskRunner(max_workers=2))"]
    return [*decorator, f"{keyword} {name}({parameters}):", *indent(body)]


@st.composite
def module_statements(draw: st.DrawFn, scope: Scope, parents: list[str]) -> list[str]:
    """Code outside any function: stray submits and waits, and a `__main__` block."""
    top = scope.child(is_async=False)
    top.in_function = False
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        lines.extend(draw(simple_statement(top)))
    if parents and draw(st.booleans()):
        lines += ["", "", 'if __name__ == "__main__":', f"    {parents[0]}()"]
    return lines


HEADERS = (
    ['"""A prefect module."""'],
    ["# uses prefect"],
    ["#!/usr/bin/env python", "# -*- coding: utf-8 -*-", "# prefect pipeline"],
    ['"""Prefect pipeline."""', "", "from __future__ import annotations"],
    ["from __future__ import annotations  # prefect"],
)


@st.composite
def prefect_modules(draw: st.DrawFn) -> str:
    """The source of a whole module that uses Prefect; it always compiles."""
    import_lines, names = draw(import_block())
    counter = itertools.count()
    extra_imports: set[str] = set()
    definitions: list[list[str]] = []

    tasks: list[str] = []
    for index in range(draw(st.integers(0, 2))):
        name = f"t{index}"
        definitions.append(draw(task_definition(names, name, tasks)))
        tasks.append(name)

    flows: list[str] = []
    safe_flows: list[str] = []
    for index in range(draw(st.integers(0, 3))):
        name = f"c{index}"
        lines, safe = draw(flow_definition(names, name, flows, extra_imports))
        definitions.append(lines)
        (safe_flows if safe else flows).append(name)

    scope = Scope(names, tasks, flows, safe_flows, counter)
    parents: list[str] = []
    for index in range(draw(st.integers(1, 2))):
        name = f"parent{index}"
        definitions.append(draw(parent_flow(scope, name)))
        parents.append(name)
        flows.append(name)

    if draw(st.booleans()):
        # The process-boundary and deployment rules need these names most of the time.
        extra_imports.update(
            {
                "import threading, sqlite3",
                "from prefect.task_runners import ProcessPoolTaskRunner",
                "from prefect.deployments import run_deployment",
            }
        )
    header = list(draw(st.sampled_from(HEADERS)))
    body = [*import_lines, *sorted(extra_imports)]
    if any(line.startswith("from __future__") for line in body):
        body = [line for line in body if not line.startswith("from __future__")]
    lines = [*header, *body]
    blank = draw(st.sampled_from([["", ""], [""], []]))
    for definition in definitions:
        lines += [*blank, *definition]
    lines += draw(module_statements(scope, parents))

    unit = draw(st.sampled_from(["    ", "    ", "    ", "  ", "\t"]))
    if unit != "    ":
        lines = [_reindent(line, unit) for line in lines]
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.integers(0, 4)):
        text += newline
    return text


def _reindent(line: str, unit: str) -> str:
    stripped = line.lstrip(" ")
    level, rest = divmod(len(line) - len(stripped), 4)
    return unit * level + " " * rest + stripped
