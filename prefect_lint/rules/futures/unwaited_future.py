"""PFL102 unwaited-future: a terminal future still unresolved when the flow returns."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.statements import InsertStatements
from prefect_lint.model import api
from prefect_lint.model.futures import Container, Exit, FlowFacts, Site
from prefect_lint.model.module import reference_to
from prefect_lint.rules.base import CstFix, ImportRequest, Rule, RuleMeta
from prefect_lint.versions import PREFECT_3


def submit_text(site: Site) -> str:
    method = "map" if site.is_list else "submit"
    return f"{site.task.name or 'task'}.{method}()"


class UnwaitedFuture(Rule):
    meta = RuleMeta(
        code="PFL102",
        name="unwaited-future",
        summary="the flow can finish Completed while a submitted task is cancelled or never runs",
        fix_title="Wait for the futures before the flow returns: `wait([...])`",
        fix_safety=Applicability.SAFE,
        since="0.1.0",
        versions=PREFECT_3,
        docs="""
## What it does
Checks flows for *terminal* futures, from `.submit()` or `.map()`, that are still unresolved
when the flow returns: not `.result()`-ed or `.wait()`-ed, not passed to `wait()` or iterated
with `as_completed()`, not returned, and not consumed by a downstream task that is itself
resolved or called directly.

## Why is this bad?
Prefect 3 does not wait for futures when a flow returns. The flow run is marked `Completed`
first; then the task runner shuts down and cancels what has not started. A task still waiting
for its inputs ends `Crashed` ("Crash detected! Execution was interrupted by an unexpected
exception: CancelledError: Task run cancelled by the task runner"), a task still queued never
runs at all (no task run is created and nothing is logged), and a task that fails does not
fail the flow. Since Prefect 3.4 nothing warns about it.

Futures passed into another task are fine when that task is waited for (waiting on it waits
on its inputs). When the analysis cannot follow a future (it is handed to an unknown
function, stored on an object, captured by a nested function), it stays silent.

## Example
```python
from prefect import flow, task


@task
def extract(n: int) -> int:
    return n


@task
def load(a: int, b: int) -> None:
    print(a + b)


@flow
def etl() -> None:
    a = extract.submit(1)
    b = extract.submit(2)
    done = load.submit(a, b)
```

## Use instead
```python
from prefect import flow, task
from prefect.futures import wait


@task
def extract(n: int) -> int:
    return n


@task
def load(a: int, b: int) -> None:
    print(a + b)


@flow
def etl() -> None:
    a = extract.submit(1)
    b = extract.submit(2)
    done = load.submit(a, b)
    wait([done])
```

## Fix safety
The fix is safe: it adds `wait([...])` (imported from `prefect.futures`) before each exit
where a future is still pending, and never changes a returned value. `wait` does not raise
when a task fails, so the flow's outcome is unchanged except that every task now runs to
completion. A future created by a bare `task.submit(...)` statement is first bound to a
name. No fix is offered when a pending future has no name that is certain at the exit (for
example one created in a loop and overwritten).

## Versions
On a project that runs Prefect 2 (`target-version`, a `prefect<3` / `prefect==2.*` pin, or
code that uses names only 2.x has), the rule is silent: 2.x flows waited for their futures
before finishing.
""",
    )

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts = self.context.function_facts(node)
        if facts is None:
            return
        statement = self.context.statement_for(node)
        if facts.flow is None:
            return  # a task or helper may hand its futures on; only a flow's exit cancels them
        unresolved = facts.unresolved()
        if not unresolved:
            return
        fix = self._fix(facts)
        flow_name = node.name.value
        for site in unresolved:
            task = site.task.name or "the task"
            what = "futures" if site.is_list else "future"
            message = (
                f"{what} of `{submit_text(site)}` never resolved: flow `{flow_name}` can finish "
                f"Completed while `{task}` is cancelled or never runs"
            )
            self.report(site.call, message, fix=fix, statement=statement)

    # -- fix ----------------------------------------------------------------------------------

    def _fix(self, facts: FlowFacts) -> CstFix | None:
        function = facts.function
        body = function.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        body_scope = self.context.model.scope_of(function, self.context.scope(function))
        reference = reference_to(self.context.model, api.FUTURES_WAIT, body_scope)
        if reference is None:
            return None
        wait_name, needs_import = reference
        taken = set(body_scope.bindings)
        suffixes: dict[str, int] = {}
        bindings: dict[int, str] = {}  # bare `task.submit()` statements we name
        bare = _bare_submits(body)
        before: dict[int, list[cst.BaseSmallStatement]] = {}
        after_body: dict[int, list[cst.BaseSmallStatement]] = {}
        for exit_ in facts.exits:
            pending = [s for s in facts.sites if s in exit_.pending and not s.consumed]
            if not pending:
                continue
            items = self._wait_items(pending, exit_, bare, bindings, taken, suffixes)
            if items is None:
                return None
            statement = _wait_statement(wait_name, items)
            target = _insertion_point(exit_, body)
            if target is None:
                return None
            table, key = target
            (before if table == "before" else after_body).setdefault(key, []).append(statement)
        if not before and not after_body:
            return None
        replace = {
            key: cst.Assign(
                targets=[cst.AssignTarget(target=cst.Name(name))], value=bare[key].value
            )
            for key, name in bindings.items()
        }
        return CstFix(
            title=self.meta.fix_title or "",
            applicability=Applicability.SAFE,
            replacements={},
            imports=[ImportRequest("prefect.futures", "wait")] if needs_import else (),
            transformer=InsertStatements(before, after_body, replace),
        )

    def _wait_items(
        self,
        pending: list[Site],
        exit_: Exit,
        bare: dict[int, cst.Expr],
        bindings: dict[int, str],
        taken: set[str],
        suffixes: dict[str, int],
    ) -> list[cst.BaseElement] | None:
        """Elements of the list to wait on, covering every pending future, or None."""
        items: list[cst.BaseElement] = []
        used: set[str] = set()
        holders = _Holders(exit_)
        bare_calls = {id(expr.value): key for key, expr in bare.items()}
        for site in pending:
            name = holders.of(site)
            if name is None:
                key = bare_calls.get(id(site.call))
                if key is None:
                    return None
                if key not in bindings:
                    bindings[key] = _fresh_name(site, taken, suffixes)
                name, starred = bindings[key], site.is_list
            else:
                starred = _is_collection(exit_.names[name])
            if name in used:
                continue
            used.add(name)
            value = cst.Name(name)
            items.append(cst.StarredElement(value) if starred else cst.Element(value))
        return items


class _Holders:
    """The name holding each site at an exit: the first name (sorted) that holds it, else the
    first holding a container it is in. Built once per exit, not once per pending site."""

    def __init__(self, exit_: Exit) -> None:
        self._exit = exit_
        self._direct: dict[Site, str] | None = None
        self._contained: dict[Site, str] | None = None

    def of(self, site: Site) -> str | None:
        if self._direct is None:
            self._direct = {}
            for name, objs in sorted(self._exit.names.items(), reverse=True):
                for obj in objs:
                    if isinstance(obj, Site):
                        self._direct[obj] = name  # the smallest name is written last
        name = self._direct.get(site)
        if name is not None:
            return name
        if self._contained is None:
            self._contained = {}
            reachable: dict[int, list[Site]] = {}
            for name, objs in sorted(self._exit.names.items()):
                for obj in objs:
                    if isinstance(obj, Container):
                        for inner in _sites_in(obj, reachable):
                            self._contained.setdefault(inner, name)
        return self._contained.get(site)


def _sites_in(container: Container, memo: dict[int, list[Site]]) -> list[Site]:
    """The sites reachable through a container's members (nested containers included)."""
    found = memo.get(id(container))
    if found is not None:
        return found
    found = []
    seen: set[int] = set()
    stack: list[object] = [container]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Site):
            found.append(obj)
        elif isinstance(obj, Container) and id(obj) not in seen:
            seen.add(id(obj))
            stack.extend(obj.members)
    memo[id(container)] = found
    return found


def _is_collection(objs: frozenset) -> bool:  # type: ignore[type-arg]
    return any(isinstance(o, Container) or (isinstance(o, Site) and o.is_list) for o in objs)


def _fresh_name(site: Site, taken: set[str], suffixes: dict[str, int] | None = None) -> str:
    """A name not in `taken` (then taken); `suffixes` remembers, per stem, the first counter
    not yet tried, so a thousand futures of one task do not retry a thousand names each."""
    receiver = site.call.func.value if isinstance(site.call.func, cst.Attribute) else None
    stem = receiver.value if isinstance(receiver, cst.Name) else (site.task.name or "task")
    base = f"{stem}_{'futures' if site.is_list else 'future'}"
    counter = suffixes.get(base, 2) if suffixes is not None else 2
    name = base if counter == 2 else f"{base}_{counter}"
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    taken.add(name)
    if suffixes is not None:
        suffixes[base] = counter
    return name


def _bare_submits(body: cst.IndentedBlock) -> dict[int, cst.Expr]:
    """`task.submit(...)` statements directly in the flow body (they run on every path)."""
    found: dict[int, cst.Expr] = {}
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    found[id(small)] = small
    return found


def _wait_statement(wait_name: str, items: list[cst.BaseElement]) -> cst.Expr:
    call = cst.Call(func=cst.parse_expression(wait_name), args=[cst.Arg(cst.List(items))])
    return cst.Expr(call)


def _insertion_point(exit_: Exit, body: cst.IndentedBlock) -> tuple[str, int] | None:
    if exit_.statement is None:
        return "after", id(body)
    suite = exit_.suite
    if (
        isinstance(suite, cst.SimpleStatementLine)
        and suite.body
        and suite.body[0] is exit_.statement
    ):
        return "before", id(suite)
    if isinstance(suite, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return "before", id(exit_.statement)
    return None
