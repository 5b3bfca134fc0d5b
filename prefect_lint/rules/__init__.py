"""The rule registry: every rule class, in code order. Adding a rule means adding it here and
its row (code, class name, release) to `rule_codes.RULE_CODES`."""

from __future__ import annotations

from prefect_lint.rule_codes import RULE_CODES
from prefect_lint.rules.base import Rule, RuleMeta, SyntaxErrorRule
from prefect_lint.rules.futures.async_task_direct_call import AsyncTaskDirectCall
from prefect_lint.rules.futures.blocking_run_deployment import BlockingRunDeployment
from prefect_lint.rules.futures.call_not_future import CallNotFuture
from prefect_lint.rules.futures.flow_submit import FlowSubmit
from prefect_lint.rules.futures.future_as_value import FutureAsValue
from prefect_lint.rules.futures.serial_result import SerialResultInLoop
from prefect_lint.rules.futures.unused_task_runner import UnusedTaskRunner
from prefect_lint.rules.futures.unwaited_future import UnwaitedFuture
from prefect_lint.rules.futures.wait_import import WaitImport
from prefect_lint.rules.futures.wait_not_list import WaitNotList
from prefect_lint.rules.import_time.run_context_at_import import RunContextAtImport
from prefect_lint.rules.migration.changed_in_3 import ChangedIn3
from prefect_lint.rules.migration.deprecated_in_3 import DeprecatedIn3
from prefect_lint.rules.migration.removed_in_3 import RemovedIn3
from prefect_lint.rules.process_boundary.missing_main_guard import MissingMainGuard
from prefect_lint.rules.process_boundary.unhashable_task_input import UnhashableTaskInput
from prefect_lint.rules.process_boundary.unpicklable_argument import UnpicklableArgument
from prefect_lint.rules.process_boundary.unpicklable_global import UnpicklableGlobal
from prefect_lint.rules.process_boundary.unpicklable_return import UnpicklableReturn

ALL_RULES: tuple[type[Rule], ...] = (
    SyntaxErrorRule,
    FlowSubmit,
    UnwaitedFuture,
    SerialResultInLoop,
    CallNotFuture,
    WaitImport,
    BlockingRunDeployment,
    AsyncTaskDirectCall,
    FutureAsValue,
    WaitNotList,
    UnusedTaskRunner,
    UnpicklableReturn,
    UnpicklableArgument,
    UnpicklableGlobal,
    MissingMainGuard,
    UnhashableTaskInput,
    RemovedIn3,
    ChangedIn3,
    DeprecatedIn3,
    RunContextAtImport,
)
# Rules that inspect the tree (PFL000 is reported by the engine itself).
VISITOR_RULES: tuple[type[Rule], ...] = tuple(r for r in ALL_RULES if r is not SyntaxErrorRule)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.meta.code: rule for rule in ALL_RULES}

if set(RULES_BY_CODE) != set(RULE_CODES):
    # Settings read the catalog, not the classes: a rule missing there would never run.
    raise RuntimeError(
        "prefect_lint/rule_codes.py RULE_CODES does not match the registered rules: "
        f"{sorted(RULES_BY_CODE)}"
    )


def rule_meta(code: str) -> RuleMeta | None:
    rule = RULES_BY_CODE.get(code)
    return rule.meta if rule is not None else None
