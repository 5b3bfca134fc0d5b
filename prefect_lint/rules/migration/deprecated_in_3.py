"""PFL311 deprecated-in-3: a Prefect 2 name that Prefect 3 still accepts through a shim."""

from __future__ import annotations

from prefect_lint.diagnostics import Applicability
from prefect_lint.model.migration import Change
from prefect_lint.rules.base import FixMeta, RuleMeta
from prefect_lint.rules.migration.shared import MovedNameRule, moved_names_trigger
from prefect_lint.versions import PREFECT_3


class DeprecatedIn3(MovedNameRule):
    """name deprecated in Prefect 3

    ## What it does
    Checks for Prefect 2 names that Prefect 3 still resolves through a compatibility shim:
    `ConcurrentTaskRunner` (now `ThreadPoolTaskRunner`), `get_client` from `prefect.client`
    (now `prefect.get_client`), `pause_flow_run` / `resume_flow_run` / `suspend_flow_run` from
    `prefect.engine` (now `prefect.flow_runs`), `load_flow_from_flow_run` from
    `prefect.deployments` (now `prefect.flows`), and `prefect.variables.get` (now
    `Variable.get`).

    ## Why is this bad?
    The code works today, but the shims are on their way out. Most of them warn on every import:
    `DeprecationWarning: 'prefect.engine:pause_flow_run' has been moved to
    'prefect.flow_runs:pause_flow_run'. Importing from 'prefect.flow_runs:pause_flow_run' instead.
    This warning will raise an error in a future release.` `ConcurrentTaskRunner` is a silent
    alias of `ThreadPoolTaskRunner`; its name no longer says what it is.

    Compatibility code (inside `try: ... except ImportError:`, or under a version check) is left
    alone.

    ## Example
    ```python
    from prefect import flow
    from prefect.engine import pause_flow_run
    from prefect.task_runners import ConcurrentTaskRunner


    @flow(task_runner=ConcurrentTaskRunner())
    def review() -> None:
        pause_flow_run(timeout=600)
    ```

    ## Use instead
    ```python
    from prefect import flow
    from prefect.flow_runs import pause_flow_run
    from prefect.task_runners import ThreadPoolTaskRunner


    @flow(task_runner=ThreadPoolTaskRunner())
    def review() -> None:
        pause_flow_run(timeout=600)
    ```

    ## Fix safety
    Safe: each new name is the very object the shim hands out (Prefect's `MOVED_IN_V3` table
    imports the new location; `ConcurrentTaskRunner = ThreadPoolTaskRunner`). The import is
    rewritten in place or merged into an existing import of the new module, a renamed name is
    renamed at every use that refers to the import, and no stale import is left. When the new
    name is already taken in the module by something else, there is no fix.

    ## Versions
    The shims exist from 3.0 on. On 2.x the old names are the ones to use (2.20.17 has no
    `prefect.flow_runs.pause_flow_run` and no `ThreadPoolTaskRunner`), so nothing is reported
    against a 2.x target.

    ## Prefect facts
    - migration-table
    """

    change = Change.DEPRECATED
    meta = RuleMeta(
        versions=PREFECT_3, fix=FixMeta(title="Use the Prefect 3 name", safety=Applicability.SAFE)
    )
    trigger = moved_names_trigger(change)
