"""The Prefect versions a future rule's report is proven for, by where it sits, and the base of
the rules that judge each function from the futures analysis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.model import precheck
from prefect_lint.model.future_facts import FunctionFacts
from prefect_lint.rules.base import Rule
from prefect_lint.versions import PREFECT_3, VersionRange

if TYPE_CHECKING:
    pass


def sync_flow_versions(facts: FunctionFacts) -> VersionRange | None:
    """None (the rule's own range) in a sync flow; Prefect 3 anywhere else.

    On Prefect 2, `.submit()`, `.result()` and direct calls behave as on 3.x inside a sync
    flow (proven on 2.20.17 by tests/runtime/test_prefect2_rules.py). In an async flow 2.x
    differs by task (an async task's `.submit()` and its future's `.result()` return coroutines
    to await; a sync task's do not), and a helper may be called from either: neither the claim
    nor the fix is proven there."""
    if facts.function.asynchronous is not None:
        return PREFECT_3
    return None if facts.flow is not None else PREFECT_3


@dataclass(frozen=True)
class FunctionUnderCheck:
    """A function the walk is leaving, with what a futures rule needs to judge it."""

    node: cst.FunctionDef
    facts: FunctionFacts
    statement: cst.CSTNode  # the module-level statement holding it (where reports anchor)
    # The versions its reports hold for (sync_flow_versions): what narrows the reports of a
    # rule that also claims Prefect 2; a Prefect 3 rule needs not pass it.
    versions: VersionRange | None


class FunctionFactsRule(Rule):
    """A futures rule that judges each function (flow, task or helper) from the analyzer's
    facts when the walk leaves it; where it claims Prefect 2, its reports hold there in sync
    flows only (`FunctionUnderCheck.versions`)."""

    # It can report only where the analysis may record a fact; a rule that needs more of the
    # file states a narrower trigger.
    trigger = precheck.FUTURES_FACTS

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts = self.context.function_facts(node)
        if facts is not None:
            statement = self.context.statement_for(node)
            versions = sync_flow_versions(facts)
            self.check_function(FunctionUnderCheck(node, facts, statement, versions))

    def check_function(self, function: FunctionUnderCheck) -> None:
        """Report what the facts show about the function."""
        raise NotImplementedError
