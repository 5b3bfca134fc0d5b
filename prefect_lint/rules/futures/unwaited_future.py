"""PFL102 unwaited-future: a terminal future still unresolved when the flow returns."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.async_wait import awaited_in_thread, to_thread_reference
from prefect_lint.fixes.names import taken_names
from prefect_lint.fixes.statements import InsertStatements
from prefect_lint.model import api
from prefect_lint.model.future_facts import Container, Exit, FunctionFacts, Site
from prefect_lint.model.module import reference_to
from prefect_lint.rules.base import CstFix, FixMeta, ImportRequest, RuleMeta
from prefect_lint.rules.futures.sync_flow import FunctionFactsRule, FunctionUnderCheck
from prefect_lint.versions import PREFECT_3


def submit_text(site: Site) -> str:
    method = "map" if site.is_list else "submit"
    return f"{site.task.name or 'task'}.{method}()"


class UnwaitedFuture(FunctionFactsRule):
    """the flow can finish Completed while a submitted task is cancelled or never runs

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

    A `raise` that leaves the flow is an exit too: a task submitted in an `except` or `finally`
    block just before it (an alert, a cleanup) is not waited for. The flow fails at once, the
    runner is shut down, and a task still queued (or waiting for its inputs) never runs. A
    `raise` inside a `try` or `with` block may be caught there, so it is not counted as an exit.

    Passing futures to builtins (`len`, `print`, `str`), string formatting (`", ".join(...)`,
    f-strings, `%`) or logging (`logger.info(...)`) does not resolve them.

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

    # ... (the rest as in the Example)


    @flow
    def etl() -> None:
        a = extract.submit(1)
        b = extract.submit(2)
        done = load.submit(a, b)
        wait([done])
    ```

    ## Fix safety
    The fix is safe. Before each exit (`return`, `raise`, end of the flow) where a future is still
    pending it waits for them: with
    `wait([a, *b])` (imported from `prefect.futures`), `wait(futures)` for one list, tuple or set
    of futures, or `futures.wait()` for one `.map()` list. In an `async def` flow the same call
    runs in a worker thread, `await asyncio.to_thread(wait, [...])` (adding `import asyncio`),
    so the event loop, and the flows gathered with this one, keep running (a plain `wait` would
    make them run one at a time). A bare `task.submit(...)` / `task.map(...)` statement in the
    flow body is first bound to a new name, fresh in the whole function.

    What it changes: the flow now ends after those tasks, so tasks that were cancelled or never
    ran now run and the flow takes as long as they do. `wait` does not raise when a task fails:
    the flow's final state and its returned value are unchanged.

    It is offered only when every pending future is held at the exit by a name that holds
    nothing else: a single future, a `.map()` list, or a list, tuple or set (or a dict's
    `.values()`) of single futures. No fix for a future overwritten in a loop, kept in a dict
    (waiting on it would wait on its keys), in a list of `.map()` lists, or in a generator
    (waiting would consume it), nor in a one-line flow body.

    ## Versions
    On a project that runs Prefect 2 (`target-version`, a `prefect<3` / `prefect==2.*` pin, or
    code that uses names only 2.x has), the rule is silent: 2.x flows waited for their futures
    before finishing (2.20.17: both unwaited tasks print before the flow returns Completed). The
    fix imports `prefect.futures.wait`, which exists from 3.0.0 on.

    ## Prefect facts
    - unwaited-futures-are-abandoned
    - what-waits-for-a-future
    - wait-lives-in-prefect-futures
    - sync-wait-blocks-the-event-loop
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(
            title="Wait for the futures before the flow returns: `wait([...])`",
            safety=Applicability.SAFE,
        ),
    )

    def check_function(self, function: FunctionUnderCheck) -> None:
        facts, statement = function.facts, function.statement
        if facts.flow is None:
            return  # a task or helper may hand its futures on; only a flow's exit cancels them
        unresolved = facts.unresolved()
        if not unresolved:
            return
        fix = self._fix(facts)
        flow_name = function.node.name.value
        # Futures pending only where the flow raises: it ends Failed, not Completed.
        at_return: set[Site] = set()
        for exit_ in facts.exits:
            if not exit_.raises:
                at_return |= exit_.pending
        for site in unresolved:
            task = site.task.name or "the task"
            what = "futures" if site.is_list else "future"
            if site in at_return:
                message = (
                    f"{what} of `{submit_text(site)}` never resolved: flow `{flow_name}` can "
                    f"finish Completed while `{task}` is cancelled or never runs"
                )
            else:
                message = (
                    f"{what} of `{submit_text(site)}` never resolved: flow `{flow_name}` fails "
                    f"at its `raise` without waiting, and `{task}` may be cancelled or never run"
                )
            self.report(site.call, message, fix=fix, statement=statement)

    # -- fix ----------------------------------------------------------------------------------

    def _fix(self, facts: FunctionFacts) -> CstFix | None:
        function = facts.function
        body = function.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        body_scope = self.context.model.scope_of(function, self.context.scope(function))
        reference = reference_to(self.context.model, api.FUTURES_WAIT, body_scope)
        if reference is None:
            return None
        wait_name, needs_import = reference
        to_thread: str | None = None
        thread_imports: list[ImportRequest] = []
        if facts.flow is not None and facts.flow.is_async:
            # `wait` blocks the thread: in an async flow it would stall the event loop and
            # every coroutine gathered with this flow. Wait in a worker thread instead.
            threaded = to_thread_reference(self.context.model, body_scope)
            if threaded is None:
                return None
            to_thread, thread_imports = threaded
        fresh = _FreshNames(taken_names(function, self.context.model.walrus_names))
        bindings: dict[int, str] = {}  # bare `task.submit()` statements we name
        bare = _bare_submits(body)
        bare_by_call = {id(expr.value): key for key, expr in bare.items()}
        order = {site: position for position, site in enumerate(facts.sites)}
        before: dict[int, list[cst.BaseSmallStatement]] = {}
        after_body: dict[int, list[cst.BaseSmallStatement]] = {}
        uses_wait = False
        for exit_ in facts.exits:
            pending = sorted((s for s in exit_.pending if not s.consumed), key=order.__getitem__)
            if not pending:
                continue
            items = _wait_items(pending, exit_, bare_by_call, bindings, fresh)
            if items is None:
                return None
            statement, used_wait = _wait_statement(wait_name, items, to_thread)
            uses_wait = uses_wait or used_wait
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
        return self.fix(
            {},
            [
                *([ImportRequest("prefect.futures", "wait")] if needs_import and uses_wait else ()),
                *thread_imports,
            ],
            transformer=InsertStatements(before, after_body, replace),
        )


def _wait_items(
    pending: list[Site],
    exit_: Exit,
    bare_by_call: dict[int, int],
    bindings: dict[int, str],
    fresh: _FreshNames,
) -> list[tuple[str, bool, bool]] | None:
    """What to wait on, covering every pending future, or None: (name, spread, is a
    `.map()` list)."""
    holders = _Holders(exit_)
    items: list[tuple[str, bool, bool]] = []
    used: set[str] = set()
    for site in pending:
        held = holders.of(site)
        if held is None:
            key = bare_by_call.get(id(site.call))
            if key is None:
                return None
            if key not in bindings:
                bindings[key] = _fresh_name(site, fresh)
            name, starred = bindings[key], site.is_list
        else:
            name, starred = held
        if name in used:
            continue
        used.add(name)
        items.append((name, starred, site.is_list and starred))
    return items


class _Holders:
    """The names that hold each future at an exit, found in one pass over the exit's names.

    `wait` needs a flat list of futures: a name qualifies when everything it may hold is a
    single future (the site itself), or everything is a `.map()` list or a container whose
    members are all single futures (spread). A dict (iterating it gives its keys) or a list of
    `.map()` lists does not qualify. The first name in alphabetical order wins.
    """

    def __init__(self, exit_: Exit) -> None:
        # Names holding only futures of the same kind (all `.map()` lists, or all single).
        self.direct: dict[Site, str] = {}
        # Names holding collections a single future sits in, to be spread into the list.
        self.spread: dict[Site, str] = {}
        for name, objs in sorted(exit_.names.items()):
            if all(isinstance(o, Site) for o in objs):
                kinds = {o.is_list for o in objs if isinstance(o, Site)}
                if len(kinds) == 1:
                    for obj in objs:
                        if isinstance(obj, Site):
                            self.direct.setdefault(obj, name)
            if all(_spreads_to_futures(o) for o in objs):
                for obj in objs:
                    if isinstance(obj, Container):
                        for member in _source(obj).members:
                            if isinstance(member, Site):
                                self.spread.setdefault(member, name)

    def of(self, site: Site) -> tuple[str, bool] | None:
        """A name that holds `site`, and whether it is spread (`*name`) in the list."""
        name = self.direct.get(site)
        if name is not None:
            return name, site.is_list
        if site.is_list:
            return None
        name = self.spread.get(site)
        return (name, True) if name is not None else None


class _FreshNames:
    """`fresh_name` for many names from the same few stems: each stem's search resumes where
    it stopped (the taken names only grow), instead of counting up from 2 every time."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.next: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        counter = self.next.get(base, 1)
        while True:
            name = base if counter == 1 else f"{base}_{counter}"
            if name not in self.taken:
                break
            counter += 1
        self.taken.add(name)
        self.next[base] = counter + 1
        return name


def _source(container: Container) -> Container:
    """Where a container's elements live: a dict's `.values()` view reads the dict."""
    return container.view[0] if container.view is not None else container


def _spreads_to_futures(obj: object) -> bool:
    if isinstance(obj, Site):
        return obj.is_list
    if not isinstance(obj, Container):
        return False
    if obj.view is not None:
        return obj.view[1] == "values" and obj.view[0].is_dict and obj.view[0].pure
    return obj.pure and not obj.is_dict and _reiterable(obj.node)


def _reiterable(node: cst.CSTNode) -> bool:
    """A list, tuple or set (not a generator or iterator, which waiting would consume)."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.ListComp, cst.SetComp)):
        return True
    if isinstance(node, cst.BinaryOperation):
        return True  # `futures + [future]`
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in ("list", "tuple", "set", "sorted")
    )


def _fresh_name(site: Site, fresh: _FreshNames) -> str:
    receiver = site.call.func.value if isinstance(site.call.func, cst.Attribute) else None
    stem = receiver.value if isinstance(receiver, cst.Name) else (site.task.name or "task")
    return fresh(f"{stem}_{'futures' if site.is_list else 'future'}")


def _bare_submits(body: cst.IndentedBlock) -> dict[int, cst.Expr]:
    """`task.submit(...)` statements directly in the flow body (they run on every path)."""
    found: dict[int, cst.Expr] = {}
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    found[id(small)] = small
    return found


def _wait_statement(
    wait_name: str, items: list[tuple[str, bool, bool]], to_thread: str | None
) -> tuple[cst.Expr, bool]:
    """`wait([...])`, or `futures.wait()` for one `.map()` list (as one writes it by hand);
    in an async flow run in a thread and awaited. Also: whether `wait` itself is used."""
    if len(items) == 1 and items[0][2]:
        # `PrefectFutureList.wait()`: the list `.map()` returned, held by this name only.
        method = cst.Attribute(cst.Name(items[0][0]), cst.Name("wait"))
        if to_thread is None:
            return cst.Expr(cst.Call(func=method)), False
        return cst.Expr(awaited_in_thread(to_thread, method)), False
    waited: cst.BaseExpression
    if len(items) == 1 and items[0][1]:
        waited = cst.Name(items[0][0])  # one collection of futures: `wait(futures)`
    else:
        waited = cst.List(
            [
                cst.StarredElement(cst.Name(name)) if starred else cst.Element(cst.Name(name))
                for name, starred, _ in items
            ]
        )
    wait = cst.parse_expression(wait_name)
    if to_thread is None:
        return cst.Expr(cst.Call(func=wait, args=[cst.Arg(waited)])), True
    return cst.Expr(awaited_in_thread(to_thread, wait, waited)), True


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
