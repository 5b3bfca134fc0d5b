"""PFL302 changed-in-3: Prefect 2 calls that Prefect 3 rejects or answers differently."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.engine.context import RuleContext
from prefect_lint.model import precheck
from prefect_lint.model.module import keyword_arg
from prefect_lint.model.values import BoundMethod, Flow
from prefect_lint.rules.base import CstFix, FixMeta, Rule, RuleMeta
from prefect_lint.rules.migration.shared import in_compat_code
from prefect_lint.versions import PREFECT_3, VersionRange, since

# `serve(schedule=...)` raised TypeError on 3.0-3.1; 3.2.0 took the keyword back.
SCHEDULE_KEYWORD_FAILS = VersionRange(since=(3, 0), before=(3, 2))
# `State.result(fetch=...)`: TypeError since 3.3.0.
FETCH_KEYWORD_FAILS = since("3.3")
_DEPLOYING_METHODS = frozenset({"serve", "deploy", "to_deployment"})
_LITERALS = {"True": "False", "False": "True", "None": "None"}


class ChangedIn3(Rule):
    """call changed in Prefect 3

    ## What it does
    Checks for Prefect 2 idioms that Prefect 3 rejects or answers differently:
    - `await task.submit(...)` / `await task.map(...)` and `await future.result()` in an async
      flow: submitting and resolving are synchronous in Prefect 3;
    - `future.get_state()`: Prefect 3 futures have a `.state` property;
    - `state = future.wait()`: Prefect 2 returned the final State, Prefect 3 returns `None`;
    - `flow.serve(is_schedule_active=...)` / `.deploy(...)` / `.to_deployment(...)`: the keyword
      is `paused` now (with the opposite meaning);
    - `flow.serve(schedule=...)` on Prefect 3.0 and 3.1, which only took `schedules=[...]`;
    - `state.result(fetch=...)` on a State from `return_state=True`.

    In Prefect 2.20 `infra_overrides=` exists only on `Deployment` and `Deployment.build_from_flow`,
    which PFL301 already reports as removed (the flow methods take `job_variables=`).

    Tasks, flows and futures are the model's: a future is the value of a `.submit()` or `.map()`
    of a task the model knows, never a variable that merely has a future-like name.

    ## Why is this bad?
    Each fails at runtime on Prefect 3: `TypeError: object PrefectConcurrentFuture can't be used
    in 'await' expression`, `AttributeError: 'PrefectConcurrentFuture' object has no attribute
    'get_state'`, `TypeError: Flow.serve() got an unexpected keyword argument
    'is_schedule_active'`, `TypeError: State.result() got an unexpected keyword argument 'fetch'`
    (3.3+). `state = future.wait()` is worse: `state` is silently `None`, and the code that reads
    it fails later (`AttributeError: 'NoneType' object has no attribute 'is_completed'`).

    Code inside compatibility guards (`try: ... except ImportError:`, a version check) is left
    alone.

    ## Example
    ```python
    from prefect import flow, task


    @task
    async def fetch(n: int) -> int:
        return n


    @flow
    async def pipeline() -> int:
        future = await fetch.submit(1)
        state = future.wait()
        print(state.is_completed())
        return await future.result()
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    @flow
    async def pipeline() -> int:
        future = fetch.submit(1)
        future.wait()
        state = future.state
        print(state.is_completed())
        return future.result()
    ```

    ## Fix safety
    The rewrites are mechanical and safe: dropping the `await` (Prefect 3 returns the same future
    or value synchronously), `.get_state()` -> `.state`, `x = fut.wait()` -> `fut.wait()` then
    `x = fut.state` (only for a plain `name = future.wait()` statement without a timeout: with a
    timeout Prefect 2 returned None while the run was still going),
    `is_schedule_active=True/False/None` -> `paused=False/True/None` (only for those literals; for
    another expression `not x` would turn Prefect 2's `None` into "paused"), and `fetch=True`
    dropped (Prefect 3 always fetches the result). `schedule=x` -> `schedules=[x]` is unsafe: the
    schedule object must be one Prefect 3 accepts in the list.

    ## Versions
    Reported on Prefect 3 targets; `schedule=` only on 3.0-3.1 (3.2.0 accepts it again) and
    `fetch=` only from 3.3 (earlier 3.x releases accept it with a deprecation warning).

    ## Prefect facts
    - changed-calls
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(title="Rewrite the call for Prefect 3", safety=Applicability.SAFE),
    )
    trigger = precheck.CHANGED_CALLS

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        # Calls whose value is thrown away (`fut.wait()` as a statement).
        self._discarded: set[int] = set()
        # `name = fut.wait()` lines: call id -> (line, target name, future expression).
        self._wait_assigns: dict[int, tuple[cst.SimpleStatementLine, cst.Name]] = {}

    # -- keywords of flow.serve / deploy / to_deployment ------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args or not isinstance(node.func, cst.Attribute):
            return
        if node.func.attr.value not in _DEPLOYING_METHODS:
            return
        active = keyword_arg(node, "is_schedule_active")
        schedule = keyword_arg(node, "schedule")
        if active is None and schedule is None:
            return
        method = self.context.evaluate(node.func, node)
        if not (isinstance(method, BoundMethod) and isinstance(method.owner, Flow)):
            return
        if in_compat_code(self.context.ancestors):
            return
        name = method.name
        if active is not None:
            self.report(
                active,
                f"`{name}(is_schedule_active=...)` raises TypeError on Prefect 3: "
                "use `paused=` (the opposite)",
                fix=self._paused_fix(active),
            )
        if schedule is not None and keyword_arg(node, "schedules") is None:
            fix = CstFix(
                "Pass the schedule in `schedules=[...]`",
                Applicability.UNSAFE,
                {
                    schedule: schedule.with_changes(
                        keyword=cst.Name("schedules"),
                        value=cst.List([cst.Element(schedule.value)]),
                    )
                },
            )
            self.report(
                schedule,
                f"`{name}(schedule=...)` raises TypeError on Prefect 3.0-3.1: "
                "use `schedules=[...]`",
                fix=fix,
                versions=SCHEDULE_KEYWORD_FAILS,
            )

    def _paused_fix(self, arg: cst.Arg) -> CstFix | None:
        value = arg.value
        if not (isinstance(value, cst.Name) and value.value in _LITERALS):
            return None
        new = arg.with_changes(keyword=cst.Name("paused"), value=cst.Name(_LITERALS[value.value]))
        return CstFix("Use `paused=`", Applicability.SAFE, {arg: new})

    # -- futures (the futures analysis says what is a future) -------------------------------

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if isinstance(value, cst.Await):
            value = value.expression
        self._discarded.add(id(value))

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        line = self.context.ancestors[-1] if self.context.ancestors else None
        if (
            isinstance(value, cst.Call)
            and not value.args
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "wait"
            and isinstance(value.func.value, cst.Name)
            and len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
            and isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
        ):
            self._wait_assigns[id(value)] = (line, node.targets[0].target)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts = self.context.function_facts(node)
        if facts is None or not facts.v2_uses:
            return
        statement = self.context.statement_for(node)
        seen: set[int] = set()
        for kind, use in facts.v2_uses:
            if id(use) in seen:
                continue
            seen.add(id(use))
            if kind == "await":
                assert isinstance(use, cst.Await)
                self._report_await(use, statement)
            elif kind == "get_state":
                assert isinstance(use, cst.Call)
                self._report_get_state(use, statement)
            elif kind == "wait" and id(use) not in self._discarded:
                assert isinstance(use, cst.Call)
                self._report_wait_value(use, statement)
            elif kind == "fetch":
                assert isinstance(use, cst.Call)
                self._report_fetch(use, statement)

    def _report_await(self, node: cst.Await, statement: cst.CSTNode) -> None:
        inner = node.expression
        what = "a future"
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute):
            what = f"`.{inner.func.attr.value}()`"
        fix = CstFix(
            "Remove the `await`",
            Applicability.SAFE,
            {node: inner.with_changes(lpar=node.lpar, rpar=node.rpar)},
        )
        self.report(
            node,
            f"awaiting {what} raises TypeError on Prefect 3: `submit`, `map` and `result` "
            "are synchronous; remove the `await`",
            fix=fix,
            statement=statement,
        )

    def _report_get_state(self, call: cst.Call, statement: cst.CSTNode) -> None:
        func = call.func
        assert isinstance(func, cst.Attribute)
        fix = None
        if not call.args:
            state = cst.Attribute(value=func.value, attr=cst.Name("state"))
            fix = CstFix("Use `.state`", Applicability.SAFE, {call: state})
        self.report(
            call,
            "`.get_state()` raises AttributeError on Prefect 3 futures: use `.state`",
            fix=fix,
            statement=statement,
        )

    def _report_wait_value(self, call: cst.Call, statement: cst.CSTNode) -> None:
        fix = None
        found = self._wait_assigns.get(id(call))
        if found is not None:
            line, target = found
            func = call.func
            assert isinstance(func, cst.Attribute)
            wait_line = line.with_changes(body=[cst.Expr(call)])
            state_line = cst.SimpleStatementLine(
                body=[
                    cst.Assign(
                        targets=[cst.AssignTarget(target)],
                        value=cst.Attribute(value=func.value, attr=cst.Name("state")),
                    )
                ]
            )
            fix = CstFix(
                "Wait, then read `.state`",
                Applicability.SAFE,
                {line: cst.FlattenSentinel([wait_line, state_line])},
            )
        self.report(
            call,
            "`.wait()` returns None on Prefect 3 (Prefect 2 returned the State): "
            "wait, then read the future's `.state`",
            fix=fix,
            statement=statement,
        )

    def _report_fetch(self, call: cst.Call, statement: cst.CSTNode) -> None:
        fetch = keyword_arg(call, "fetch")
        assert fetch is not None
        fix = None
        if isinstance(fetch.value, cst.Name) and fetch.value.value == "True":
            args = [arg for arg in call.args if arg is not fetch]
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            fix = CstFix(
                "Remove `fetch=True`", Applicability.SAFE, {call: call.with_changes(args=args)}
            )
        self.report(
            fetch,
            "`State.result(fetch=...)` raises TypeError on Prefect 3.3+: results are always "
            "fetched; remove the keyword",
            fix=fix,
            statement=statement,
            versions=FETCH_KEYWORD_FAILS,
        )
