"""PFL401 run-context-at-import: run-context APIs, block and variable loads at import time."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.model import precheck
from prefect_lint.model.values import Dotted, Flow, Task
from prefect_lint.rules.base import Rule, RuleMeta
from prefect_lint.rules.process_boundary.shared import is_main_guard
from prefect_lint.versions import PREFECT_3

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext

# Functions that need an active flow or task run: MissingContextError outside one.
_RUN_CONTEXT = frozenset(
    {
        "prefect.get_run_logger",
        "prefect.logging.get_run_logger",
        "prefect.logging.loggers.get_run_logger",
        "prefect.context.get_run_context",
    }
)
# Calls that read server-side objects: an API round trip wherever they run.
_VARIABLE_GET = frozenset({"prefect.variables.Variable.get"})
_CALLED_NAMES = frozenset({"get_run_logger", "get_run_context", "load", "get"})


class RunContextAtImport(Rule):
    """a run-context API or an API load runs when the module is imported

    ## What it does
    Checks code that runs when a module is imported (module level, class bodies, decorator
    arguments and default values, but not function bodies and not under
    `if __name__ == "__main__":`) for:

    - `get_run_logger()` and `get_run_context()`, which need an active flow or task run;
    - `Block.load(...)` (`Secret`, `JSON`, `S3Bucket` and every other block class from
      `prefect.blocks` or a `prefect_*` integration) and `Variable.get(...)`.

    ## Why is this bad?
    A module is imported long before any flow runs: by `prefect deploy`, by `serve`, by the
    worker that starts each flow run, by tests. `get_run_logger()` there raises
    `MissingContextError: There is no active flow or task run context.`, so the import itself
    fails and the deployment or run never starts.

    `Block.load()` and `Variable.get()` at import make an API call on every import (each deploy,
    each flow run a worker starts), fail when the API is unreachable at that moment, and freeze
    the value for the life of the process. Imported from async code (an async `serve`, a test
    runner's event loop), they return a coroutine that is never awaited (`RuntimeWarning:
    coroutine '...' was never awaited`) and the module-level name holds the coroutine.

    A call inside a `try` block with handlers is left alone (it is guarded on purpose). Block and
    variable loads are reported only in modules that define flows or tasks (the modules deploys
    and workers import); a script that loads a block and uses it is fine.

    ## Example
    ```python
    from prefect import flow, get_run_logger

    logger = get_run_logger()


    @flow
    def etl() -> None:
        logger.info("starting")
    ```

    ## Use instead
    ```python
    from prefect import flow, get_run_logger


    @flow
    def etl() -> None:
        logger = get_run_logger()
        logger.info("starting")
    ```

    ## Fix safety
    There is no automatic fix: where the value is needed decides where the call goes. Move the
    call into the flow or task that uses it (or a function they call).

    ## Versions
    Proven on Prefect 3.9: `get_run_logger()` raises `MissingContextError` on import, and
    `Variable.get()` returns an un-awaited coroutine when imported from async code. The rule is
    silent on 2.x targets: it has not been run on Prefect 2.20 yet (a preview rule claims 2.x
    only once it has).

    ## Prefect facts
    - run-context-at-import
    - entrypoints-are-imported
    """

    meta = RuleMeta(versions=PREFECT_3)
    trigger = precheck.names_trigger(
        "a run-context API, `Variable.get` or a block class's `.load` is named",
        lambda name: (
            name in _RUN_CONTEXT
            or name in _VARIABLE_GET
            or (name.endswith(".load") and _is_block_class(name))
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._loads: list[tuple[cst.Call, str, cst.CSTNode]] = []
        self._defines_flows = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            called = func.attr.value
        elif isinstance(func, cst.Name):
            called = func.value
        else:
            return
        if called not in _CALLED_NAMES or not _runs_at_import([*self.context.ancestors, node]):
            return
        value = self.context.evaluate(func, node)
        if not isinstance(value, Dotted):
            return
        name = value.name
        text = self.context.module.code_for_node(func)
        if name in _RUN_CONTEXT:
            message = (
                f"`{text}()` runs when the module is imported, outside any flow or task run: "
                "the import raises MissingContextError (in `prefect deploy` and on workers "
                "too); call it inside the flow or task"
            )
        elif name in _VARIABLE_GET or (called == "load" and _is_block_class(name)):
            message = (
                f"`{text}(...)` runs when the module is imported: an API call on every import "
                "(each deploy, each flow run a worker starts), and an un-awaited coroutine "
                "when imported from async code; load it inside the flow or task"
            )
            # Only a module that defines flows or tasks is imported by deploys and workers;
            # a script that loads a block and uses it is fine. Decided at the module's end.
            self._loads.append((node, message, self.context.statement_of(node)))
            return
        else:
            return
        self.report(node, message)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._defines_flows or not node.decorators:
            return
        value = self.context.model.value_of_def(node, self.context.scope(node))
        self._defines_flows = isinstance(value, (Flow, Task))

    def leave_Module(self, node: cst.Module) -> None:
        if self._defines_flows:
            for call, message, statement in self._loads:
                self.report(call, message, statement=statement)


def _is_block_class(name: str) -> bool:
    """`prefect.blocks.system.Secret.load`, `prefect_aws.S3Bucket.load`, ..."""
    owner = name.rpartition(".")[0]
    package = owner.partition(".")[0]
    # Block classes are CamelCase; a module function such as `prefect_x.utils.load` is not.
    if not owner.rpartition(".")[2][:1].isupper():
        return False
    return owner.startswith("prefect.blocks.") or (package.startswith("prefect_") and "." in owner)


def _runs_at_import(path: list[cst.CSTNode]) -> bool:
    """Whether the last node of `path` (root first) runs when its module is imported."""
    for parent, child in itertools.pairwise(path):
        if isinstance(parent, cst.FunctionDef) and child is parent.body:
            return False
        if isinstance(parent, cst.Lambda):
            return False
        if isinstance(parent, cst.If) and child is parent.body and is_main_guard(parent):
            return False
        if isinstance(parent, (cst.Try, cst.TryStar)) and child is parent.body and parent.handlers:
            return False
    return True
