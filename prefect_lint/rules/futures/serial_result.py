"""PFL103 serial-result: waiting on a future inside the loop that submits it."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.collect import COMPREHENSIONS, collect_comprehension, collect_loop
from prefect_lint.fixes.names import fresh_name, taken_names
from prefect_lint.model.future_facts import FunctionFacts, FutureWait, Site, target_names
from prefect_lint.model.scopes import names_in
from prefect_lint.rules.base import CstFix, FixMeta, RuleMeta
from prefect_lint.rules.futures.sync_flow import FunctionFactsRule, FunctionUnderCheck
from prefect_lint.tree import child_nodes
from prefect_lint.versions import ALL_VERSIONS


class SerialResultInLoop(FunctionFactsRule):
    """`.result()` in the submitting loop makes the tasks run one at a time

    ## What it does
    Checks for `.result()` or `.wait()` (or `wait([...])`) on a future inside the same loop or
    comprehension that submitted it.

    ## Why is this bad?
    `.result()` blocks until that task run finishes, so the next iteration's `.submit()` only
    starts after it: the "parallel" tasks run one after another, as slowly as calling them
    directly, with the overhead of the task runner on top. Submit all the work first and collect
    the results after, or use `.map()`.

    Not flagged: a straight-line `task.submit(x).result()` with nothing to overlap,
    `task.map(...).result()` (a barrier per batch is a common way to chunk work), the loop's own
    iterable, `while` loops (polling), loops that can stop early with `break` or `return`, and
    loops whose next submit uses a value the body computed (each step needs the last).

    ## Example
    ```python
    from prefect import flow, task


    @task
    def square(n: int) -> int:
        return n * n


    @flow
    def squares() -> list[int]:
        return [square.submit(n).result() for n in range(10)]
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    @flow
    def squares() -> list[int]:
        return [future.result() for future in [square.submit(n) for n in range(10)]]
    ```

    ## Fix safety
    The fix is offered for comprehensions of the form `[t.submit(...).result() for ...]`, for
    loops whose whole body is `out.append(t.submit(...).result())` (they become
    `out.extend([...])` over futures submitted first) and for loops whose whole body is
    `t.submit(...).result()` or `.wait()` (they loop over futures submitted first). It is unsafe: the tasks now run
    concurrently, so tasks that relied on running one at a time (shared files, rate limits,
    ordering of side effects) behave differently, and a failure is raised only after every task
    was submitted. The values collected, and their order, stay the same. The loop variable the
    rewrite introduces (`future`, or `future_2`... when taken) is fresh in the whole function,
    so no variable of the flow is overwritten. Other loop shapes get the diagnostic without a
    fix.

    ## Versions
    The same holds on Prefect 2 in sync flows (2.20.17: three one-second runs collected in the
    submitting comprehension never overlap; after the fix they do, with the same values). In an
    async flow, or a helper outside a flow, 2.x differs (2.20.17: an async task's `.submit()` and
    its future's `.result()` return coroutines to await), so there the rule reports for 3.x
    targets only.

    ## Prefect facts
    - result-blocks
    - changed-calls
    """

    # The rule's name predates the class name's (`serial-result-in-loop`); names never change.
    meta = RuleMeta(
        name="serial-result",
        versions=ALL_VERSIONS,
        fix=FixMeta(
            title="Submit every task first, then collect the results", safety=Applicability.UNSAFE
        ),
    )

    def check_function(self, function: FunctionUnderCheck) -> None:
        node, facts, statement = function.node, function.facts, function.statement
        versions = function.versions
        taken: set[str] | None = None
        for serial in serial_results(facts):
            if taken is None:
                taken = taken_names(node, self.context.model.walrus_names)
            task = serial.site.task.name or "the task"
            waited = (
                "wait()"
                if isinstance(serial.use.func, cst.Name)
                else (
                    f".{serial.use.func.attr.value}()"  # type: ignore[attr-defined]
                )
            )
            where = "loop" if isinstance(serial.loop, cst.For) else "comprehension"
            message = (
                f"`{waited}` inside the {where} that submits `{task}` waits for each run "
                f"before the next is submitted: the `{task}` runs execute one at a time"
            )
            fix = self._fix(serial, taken)
            self.report(serial.use, message, fix=fix, statement=statement, versions=versions)

    def _fix(self, serial: SerialResult, taken: set[str]) -> CstFix | None:
        loop = serial.loop
        use = serial.use
        # Only `X.submit(...).result()` (or `.wait()`) itself, without arguments.
        if not (
            isinstance(use.func, cst.Attribute)
            and use.func.attr.value in ("result", "wait")
            and use.func.value is serial.site.call
            and not use.args
        ):
            return None
        # Fresh in the whole function: a loop variable outlives its loop, and a comprehension's
        # should not shadow a name the reader sees around it.
        name = fresh_name("future", set(taken))
        method = use.func.attr.value
        replacement: cst.CSTNode | None = None
        if isinstance(loop, cst.For):
            replacement = collect_loop(loop, use, serial.site.call, method, name)
        elif isinstance(loop, COMPREHENSIONS) and loop.elt is use:
            replacement = collect_comprehension(loop, serial.site.call, method, name)
        if replacement is None:
            return None
        return self.fix({loop: replacement})


# What the walk of a loop's body found (names it assigns, whether it can stop early), by loop.
LoopFacts = dict[int, tuple[set[str], bool]]


@dataclass
class SerialResult:
    use: cst.Call  # the `.result()` / `.wait()` / `wait(...)` call
    site: Site
    loop: cst.CSTNode  # the innermost loop around `use`, which also submitted `site`


def serial_results(facts: FunctionFacts) -> list[SerialResult]:
    """Waits on a single future inside the innermost loop that submitted it, where that
    serializes the runs: the first such wait of each loop.

    Not for `.map()` lists (a barrier per chunk), `while` loops (polling), loops that can
    stop early (`break`/`return`: the next step may depend on the result), or submits
    whose arguments use a name the loop body assigns (each run needs the last result).
    """
    found: list[SerialResult] = []
    reported: set[int] = set()
    # (loop, submit call) -> `serializes`; the loop body is walked once per loop.
    decided: dict[tuple[int, int], bool] = {}
    body_facts: LoopFacts = {}
    for wait in facts.waits:
        site = _single_site(wait)
        if site is None or not wait.loops:
            continue
        loop = wait.loops[-1]
        if loop not in site.loops or id(loop) in reported:
            continue
        key = (id(loop), id(site.call))
        if key not in decided:
            decided[key] = serializes(loop, site.call, body_facts)
        if decided[key]:
            reported.add(id(loop))
            found.append(SerialResult(wait.use, site, loop))
    return found


def _single_site(wait: FutureWait) -> Site | None:
    future = wait.future
    return future if isinstance(future, Site) and not future.is_list else None


def serializes(
    loop: cst.CSTNode,
    submit: cst.Call,
    body_facts: LoopFacts | None = None,
) -> bool:
    """Would waiting on `submit`'s future inside `loop` make its runs go one at a time (PFL103)?
    Not in `while` loops (polling), loops that can stop early, or loops whose next submit uses
    a value the body computed (each step needs the last). `body_facts` keeps what the walk of
    each loop's body found, for a caller asking about many submits."""
    if isinstance(loop, cst.While):
        return False
    if isinstance(loop, cst.For):
        if body_facts is None:
            assigned, stops = _loop_body_facts(loop)
        else:
            if id(loop) not in body_facts:
                body_facts[id(loop)] = _loop_body_facts(loop)
            assigned, stops = body_facts[id(loop)]
        if stops or names_in(submit) & assigned:
            return False
    return True


def _loop_body_facts(loop: cst.For) -> tuple[set[str], bool]:
    """Names the loop body assigns, and whether it can leave the loop early."""
    assigned = target_names(loop.target)
    stops = False
    # (node, inside a nested loop): a `break` there leaves only the nested loop.
    stack: list[tuple[cst.CSTNode, bool]] = [(loop.body, False)]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not nested):
            stops = True
        elif isinstance(
            node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.For)
        ):
            assigned |= target_names(node.target)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        inner = nested or isinstance(node, (cst.For, cst.While))
        stack.extend((child, inner) for child in child_nodes(node))
    # The loop's own target changes every iteration by design; it is not a dependency.
    return assigned - target_names(loop.target), stops
