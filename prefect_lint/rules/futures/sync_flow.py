"""The Prefect versions a future rule's report is proven for, by where it sits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.model.values import Flow
from prefect_lint.versions import PREFECT_3, VersionRange

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext


def sync_flow_versions(context: RuleContext, function: cst.FunctionDef) -> VersionRange | None:
    """None (the rule's own range) in a sync flow; Prefect 3 anywhere else.

    On Prefect 2, `.submit()`, `.result()` and direct calls behave as on 3.x inside a sync
    flow (proven on 2.20.17 by tests/runtime/test_prefect2_rules.py). In an async flow 2.x
    differs by task (an async task's `.submit()` and its future's `.result()` return coroutines
    to await; a sync task's do not), and a helper may be called from either: neither the claim
    nor the fix is proven there."""
    if function.asynchronous is not None:
        return PREFECT_3
    value = context.model.value_of_def(function, context.scope(function))
    return None if isinstance(value, Flow) else PREFECT_3
