"""PFL204 missing-main-guard: a process-runner flow called at import time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.model import precheck
from prefect_lint.model.boundary import spawns_processes
from prefect_lint.model.scopes import names_in
from prefect_lint.model.values import Flow
from prefect_lint.rules.base import CstFix, FixMeta, Rule, RuleMeta
from prefect_lint.rules.process_boundary.shared import is_main_guard
from prefect_lint.tree import NESTED_SCOPES, leading_lines, own_nodes
from prefect_lint.versions import PREFECT_3


class MissingMainGuard(Rule):
    """a flow on a process-based runner is called at import time

    ## What it does
    Checks for module-level calls of a flow that runs on `ProcessPoolTaskRunner` or
    `prefect_dask.DaskTaskRunner` outside an `if __name__ == "__main__":` block, including
    `asyncio.run(flow())`. The flow may be imported from another module of the project.

    ## Why is this bad?
    These runners start their worker processes with the `spawn` method: each worker imports the
    main script again. Without the guard, that import calls the flow again inside the worker,
    which starts a second flow run and fails with `RuntimeError: An attempt has been made to
    start a new process before the current process has finished its bootstrapping phase.` The
    parent flow then fails with `concurrent.futures.process.BrokenProcessPool: A process in the
    process pool was terminated abruptly while the future was running or pending.`

    ## Example
    ```python
    from prefect import flow, task
    from prefect.task_runners import ProcessPoolTaskRunner


    @task
    def square(n: int) -> int:
        return n * n


    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def squares() -> list[int]:
        return square.map(range(4)).result()


    squares()
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    if __name__ == "__main__":
        squares()
    ```

    ## Fix safety
    The fix is safe: it wraps the statement holding the call, with the simple statements that
    directly follow it, in `if __name__ == "__main__":`. It is not offered when later code reads
    a name those statements assign. Running the file as a script does the
    same as before; importing it (which is what every worker does) no longer runs the flow. It is
    offered for calls in top-level statements; calls inside a module-level `if`, `for`, `try` or
    `with` are reported without a fix.

    ## Versions
    `ProcessPoolTaskRunner` first shipped in 3.4.14; on 2.20.17 importing it raises
    `ImportError`. Dask and Ray runners on Prefect 2 were not checked, so the rule is silent on
    2.x targets.

    ## Prefect facts
    - spawn-reimports-the-script
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(
            title='Wrap the call in `if __name__ == "__main__":`', safety=Applicability.SAFE
        ),
    )
    trigger = precheck.PROCESS_FLOW_ANYWHERE

    def leave_Module(self, node: cst.Module) -> None:
        model = self.context.model
        scope = model.module_scope
        # Module names that hold a flow (cached lookups; `.with_options(...)` may change its
        # runner): calls rooted elsewhere are never resolved.
        flows = {name for name in scope.bindings if isinstance(model.lookup(name, scope), Flow)}
        if not flows:
            return
        body = list(node.body)
        wrapped_until = -1
        for index, statement in enumerate(body):
            if isinstance(statement, cst.If) and is_main_guard(statement):
                continue
            if isinstance(statement, NESTED_SCOPES):
                continue
            for call in _calls(statement):
                if _root_name(call.func) not in flows:
                    continue
                flow = model.evaluate(call.func, scope)
                if not isinstance(flow, Flow) or not spawns_processes(flow):
                    continue
                assert flow.task_runner is not None  # spawns_processes: a known runner
                runner = (flow.task_runner.name or "").rpartition(".")[2]
                name = self.context.module.code_for_node(call.func)
                message = (
                    f"flow `{name}` runs on {runner}, whose workers import this module again: "
                    f'called outside `if __name__ == "__main__":`, every worker starts the flow '
                    "anew and the run fails with BrokenProcessPool"
                )
                fix = None
                if isinstance(statement, cst.SimpleStatementLine) and index > wrapped_until:
                    end = _run_end(body, index)
                    if not _used_later(body[index:end], body[end:]):
                        fix = self._guard(body[index:end])
                    wrapped_until = end - 1
                self.report(call, message, fix=fix, statement=statement)

    def _guard(self, statements: Sequence[cst.BaseStatement]) -> CstFix:
        first = statements[0]
        guard = cst.If(
            test=cst.parse_expression('__name__ == "__main__"'),
            body=cst.IndentedBlock(
                body=[statements[0].with_changes(leading_lines=()), *statements[1:]]
            ),
            leading_lines=leading_lines(first),
        )
        replacements: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] = {first: guard}
        for statement in statements[1:]:
            replacements[statement] = cst.RemovalSentinel.REMOVE
        return self.fix(replacements)


def _run_end(body: Sequence[cst.BaseStatement], start: int) -> int:
    """The end of the run of plain statements from `start` that belong with the call."""
    end = start + 1
    while end < len(body):
        statement = body[end]
        if not isinstance(statement, cst.SimpleStatementLine) or any(
            isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
        ):
            break
        end += 1
    return end


def _used_later(wrapped: Sequence[cst.BaseStatement], rest: Sequence[cst.BaseStatement]) -> bool:
    """Whether later code reads a name the wrapped statements bind (it would be undefined
    on import once they are guarded)."""
    bound: set[str] = set()
    for statement in wrapped:
        for small in getattr(statement, "body", ()):
            targets: list[cst.BaseExpression] = []
            if isinstance(small, cst.Assign):
                targets = [target.target for target in small.targets]
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                targets = [small.target]
            for target in targets:
                bound |= names_in(target)
    return bool(bound) and any(bound & names_in(statement) for statement in rest)


def _root_name(expr: cst.BaseExpression) -> str | None:
    """`etl` for `etl`, `flows.etl`, `etl.with_options(...)`: the name a callee starts from."""
    while isinstance(expr, (cst.Attribute, cst.Call)):
        expr = expr.value if isinstance(expr, cst.Attribute) else expr.func
    return expr.value if isinstance(expr, cst.Name) else None


def _calls(statement: cst.CSTNode) -> Iterator[cst.Call]:
    return (node for node in own_nodes(statement) if isinstance(node, cst.Call))
