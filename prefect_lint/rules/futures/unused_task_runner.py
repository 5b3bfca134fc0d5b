"""PFL110 unused-task-runner: a flow sets a task runner but only calls tasks directly."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.collect import COMPREHENSIONS, collect_comprehension, collect_loop
from prefect_lint.model import precheck
from prefect_lint.model.boundary import single_assignment
from prefect_lint.model.module import keyword_arg
from prefect_lint.model.scopes import ImportBinding, Scope, names_in
from prefect_lint.model.values import Dotted, Flow, Function, Task
from prefect_lint.rules.base import CstFix, FixMeta, Rule, RuleMeta
from prefect_lint.tree import NESTED_SCOPES, body_nodes, child_nodes, own_nodes
from prefect_lint.versions import PREFECT_3

_SUBMITTING = frozenset({"submit", "map"})
# Standard-library code never submits Prefect tasks.
_STDLIB = frozenset(sys.stdlib_module_names)
_LOOPS = (cst.While, *COMPREHENSIONS, cst.DictComp)
_MAX_HELPER_DEPTH = 3
_FRESH = "future"


@dataclass(frozen=True)
class _DirectCall:
    call: cst.Call
    # The innermost loop or comprehension around the call, if any.
    loop: cst.CSTNode | None


class UnusedTaskRunner(Rule):
    """the flow sets a task runner but calls its tasks directly, one after another

    ## What it does
    Checks flows that set `task_runner=` (in `@flow(...)` or a `.with_options(...)` copy) but
    never use it: every task is called directly, and nothing the flow calls could submit one.
    It reports the runner argument.

    ## Why is this bad?
    Only `.submit()` and `.map()` hand work to the task runner. A task called directly runs
    right away in the flow's own thread and blocks until it returns, so all the tasks run one
    after another, whatever runner the flow was given. The runner is started and shut down for
    nothing, and the concurrency the author asked for never happens.

    The rule is silent when any task in the flow is submitted or mapped, when the flow calls a
    function or method that might submit tasks (a helper that submits, anything imported from
    outside the standard library and Prefect, a callable parameter), for `async` flows (direct
    async calls can run concurrently with `asyncio.gather`), and when there is nothing to overlap
    (a single task call outside any loop).

    ## Example
    ```python
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner


    @task
    def fetch(n: int) -> int:
        return n * 2


    @flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
    def crawl(pages: list[int]) -> list[int]:
        return [fetch(page) for page in pages]
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    @flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
    def crawl(pages: list[int]) -> list[int]:
        return [future.result() for future in [fetch.submit(page) for page in pages]]
    ```

    ## Fix safety
    The fix rewrites each loop or comprehension whose element is one direct task call, with
    arguments that do not depend on earlier iterations, into "submit all, then collect with
    `.result()`" (the rewrite PFL103 uses). It is unsafe: the tasks now run concurrently, which
    is the point but may surprise code that relied on their order, and when one fails the others
    have already run. No fix is offered for straight-line calls, for loops of another shape, or
    for calls with `return_state=True`.

    ## Versions
    Checked on Prefect 3.9 (tasks run one after another; submitted, they overlap). The rule is
    silent on 2.x targets: it has not been run on Prefect 2.20 yet (a preview rule claims 2.x
    only once it has).

    ## Prefect facts
    - direct-call-runs-inline
    - result-blocks
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(
            title="Submit the tasks in the loop first, then collect the results",
            safety=Applicability.UNSAFE,
        ),
    )
    trigger = precheck.Trigger(
        precheck.TASK_RUNNER_KEYWORD.condition + ", and a sync `def` decorated with "
        "`task_runner=` (or copied by `.with_options(task_runner=...)`) submits and maps "
        "nothing in its own body",
        lambda pre: precheck.TASK_RUNNER_KEYWORD(pre) and _runner_flow_without_submits(pre),
    )

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is not None or not node.decorators:
            return
        runner_args = self._runner_arguments(node)
        if not runner_args:
            return
        scope = self.context.model.scope_of(node, self.context.scope(node))
        directs = self._direct_calls(node, scope)
        if directs is None or not directs:
            return
        if len(directs) < 2 and all(direct.loop is None for direct in directs):
            return
        fix = self._fix(node, directs)
        for argument, statement in runner_args:
            runner = self.context.module.code_for_node(argument)
            message = (
                f"flow `{node.name.value}` sets `task_runner={runner}` but never submits or "
                "maps a task: its task calls run one after another in the flow's thread; use "
                "`.submit()` / `.map()` to run them on the runner"
            )
            self.report(argument, message, fix=fix, statement=statement)

    # -- where the runner is set ----------------------------------------------------------

    def _runner_arguments(
        self, node: cst.FunctionDef
    ) -> list[tuple[cst.BaseExpression, cst.CSTNode]]:
        """The `task_runner=` values that make flows of `node`, with their statements."""
        flows = self.context.flows_of(node)
        if not flows or not isinstance(flows[0], Flow):
            return []
        found: list[tuple[cst.BaseExpression, cst.CSTNode]] = []
        own = self.context.statement_for(node)
        for decorator in node.decorators:
            if isinstance(decorator.decorator, cst.Call):
                argument = keyword_arg(decorator.decorator, "task_runner")
                if argument is not None and flows[0].task_runner is not None:
                    found.append((argument.value, own))
        copies = [flow.task_runner.call for flow in flows[1:] if flow.task_runner is not None]
        for call in copies:
            if call is None:
                continue
            statement = self._statement_holding(call)
            if statement is not None:
                found.append((call, statement))
        return found

    def _statement_holding(self, runner: cst.Call) -> cst.CSTNode | None:
        """The module-level `copy = flow.with_options(task_runner=runner)` statement."""
        for statement in self.context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                value = getattr(small, "value", None)
                if isinstance(value, cst.Call) and any(
                    arg.value is runner for arg in value.args if arg.keyword is not None
                ):
                    return statement
        return None

    # -- what the flow calls ----------------------------------------------------------------

    def _direct_calls(self, function: cst.FunctionDef, scope: Scope) -> list[_DirectCall] | None:
        """The direct task calls of the flow, or None when it may use its runner."""
        model = self.context.model
        directs: list[_DirectCall] = []
        # (node, the innermost loop around it): one walk, nested scopes left out.
        stack: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(function.body, None)]
        while stack:
            node, loop = stack.pop()
            if isinstance(node, cst.For):
                # The iterable and the target are evaluated outside the repeated body.
                stack.extend([(node.target, loop), (node.iter, loop), (node.body, node)])
                if node.orelse is not None:
                    stack.append((node.orelse, loop))
                continue
            inner = node if isinstance(node, _LOOPS) else loop
            stack.extend(
                (child, inner)
                for child in reversed(child_nodes(node))
                if not isinstance(child, NESTED_SCOPES)
            )
            if not isinstance(node, cst.Call):
                continue
            if _submits(node):
                return None
            value = model.evaluate(node.func, scope)
            if isinstance(value, Task):
                directs.append(_DirectCall(node, loop))
            elif isinstance(value, Flow):
                continue  # a child flow submits to its own runner, not this one
            elif self._may_submit(node.func, value, scope, _MAX_HELPER_DEPTH):
                return None
        return directs

    def _may_submit(
        self, func: cst.BaseExpression, value: object, scope: Scope, depth: int
    ) -> bool:
        model = self.context.model
        if isinstance(value, Dotted):
            package = value.name.partition(".")[0]
            return package != "prefect" and package not in _STDLIB
        if isinstance(value, Function):
            return depth <= 0 or self._helper_may_submit(value.node, depth - 1)
        if value is not None:
            return True
        root: cst.BaseExpression = func
        while isinstance(root, (cst.Attribute, cst.Call, cst.Subscript)):
            root = root.func if isinstance(root, cst.Call) else root.value
        if isinstance(root, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
            return False  # `", ".join(...)`
        if isinstance(root, (cst.List, cst.Dict, cst.Tuple, cst.Set)):
            return False
        if not isinstance(root, cst.Name):
            return True
        if root is func:
            # A bare name: a builtin, or a variable of the flow that holds a callable.
            return model.is_bound(root.value, scope)
        bindings = scope.bindings.get(root.value)
        if bindings is not None:
            # A method of one of the flow's own values; an import inside the flow is judged
            # by what it imports.
            imported = [b for b in bindings if isinstance(b, ImportBinding)]
            if not imported:
                return False
            return any(
                b.dotted.lstrip(".").partition(".")[0] not in _STDLIB | {"prefect"}
                for b in imported
            )
        owner = model.evaluate(root, scope)
        if owner is None:
            # `log = logging.getLogger(__name__)` at module level: judged by what built it.
            assigned = single_assignment(model, root.value, scope)
            if assigned is not None and isinstance(assigned[0], cst.Call):
                owner = model.evaluate(assigned[0].func, assigned[1])
        if isinstance(owner, Dotted):
            package = owner.name.partition(".")[0]
            return package != "prefect" and package not in _STDLIB
        return model.is_bound(root.value, scope)

    def _helper_may_submit(self, helper: cst.FunctionDef, depth: int) -> bool:
        """A plain function of this module: whether calling it might submit tasks."""
        model = self.context.model
        scope = model.scope_of(helper, model.module_scope)
        for node in body_nodes(helper):
            if not isinstance(node, cst.Call):
                continue
            if _submits(node):
                return True
            value = model.evaluate(node.func, scope)
            if isinstance(value, (Task, Flow)):
                continue
            if self._may_submit(node.func, value, scope, depth):
                return True
        return False

    # -- fix --------------------------------------------------------------------------------

    def _fix(self, function: cst.FunctionDef, directs: list[_DirectCall]) -> CstFix | None:
        if _FRESH in names_in(function):
            return None
        replacements: dict[cst.CSTNode, cst.CSTNode] = {}
        for direct in directs:
            loop, call = direct.loop, direct.call
            if loop is None or loop in replacements or not _submittable(call, loop):
                continue
            submit = call.with_changes(func=cst.Attribute(value=call.func, attr=cst.Name("submit")))
            replacement: cst.CSTNode | None = None
            if isinstance(loop, COMPREHENSIONS) and loop.elt is call:
                replacement = collect_comprehension(loop, submit, "result", _FRESH)
            elif isinstance(loop, cst.For):
                replacement = collect_loop(loop, call, submit, "result", _FRESH)
            if replacement is not None:
                replacements[loop] = replacement
        if not replacements:
            return None
        return self.fix(replacements)


def _submittable(call: cst.Call, loop: cst.CSTNode) -> bool:
    """A call `.submit(...)` can take as it is, whose arguments use nothing the loop body
    assigns (each iteration must not need the last one's result)."""
    if keyword_arg(call, "return_state") is not None or any(arg.star for arg in call.args):
        return False
    if isinstance(loop, cst.For):
        assigned: set[str] = set()
        for node in own_nodes(loop.body):
            if isinstance(node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.NamedExpr)):
                assigned |= names_in(node.target)
        return not (names_in(call) & assigned)
    return True


def _runner_flow_without_submits(pre: precheck.Precheck) -> bool:
    """What `leave_FunctionDef` needs before it can report: a sync `def` given a runner by a
    decorator call's `task_runner=` (or by some `.with_options(task_runner=...)` copy) whose
    own body (nested scopes apart, as `_direct_calls` walks it) has no `.submit()` / `.map()`."""
    copies = any(
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "with_options"
        and _passes_runner(call)
        for call in pre.calls()
    )
    return any(
        isinstance(function, ast.FunctionDef)
        and (copies or any(_passes_runner(d) for d in function.decorator_list))
        and not any(_ast_submits(node) for node in own)
        for function, own in pre.index.functions
    )


def _passes_runner(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and any(k.arg == "task_runner" for k in node.keywords)


def _ast_submits(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _SUBMITTING
    )


def _submits(call: cst.Call) -> bool:
    """`x.submit(...)` or `x.map(...)`, whatever `x` is."""
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in _SUBMITTING
