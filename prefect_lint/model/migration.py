"""The Prefect 2 -> 3 migration table: names 2.x code uses that 3.x removed, moved or changed.

One table serves two readers: the PFL3xx rules (what fails on 3.x and what to use instead) and
the target detection (a name only 2.x has shows the code was written for Prefect 2). Every row
is proven on both sides by the tests: the old spelling works on 2.20 and fails or warns on 3.x
as the row says.

Seeded from Prefect's own list (`prefect/_internal/compatibility/migration.py`: `MOVED_IN_V3`,
`REMOVED_IN_V3`) and from the module diff between the 2.20.17 and 3.9.1 wheels; each `error`
was taken from a 3.9.1 run of the row's `statement` (see `MovedName.error`). The facts:
docs/prefect-semantics.md#migration-table and docs/prefect-semantics.md#prefect-2-only-names.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prefect_lint.versions import PREFECT_2, PREFECT_3, VersionRange, since

# How Python prints an exception or a warning: `Type: message`.
_PRINTED = re.compile(r"^[A-Z]\w*(?:Error|Exception|Warning): ")


class Change(str, enum.Enum):
    REMOVED = "removed"  # PFL301: ImportError, PrefectImportError or AttributeError on 3.x
    DEPRECATED = "deprecated"  # PFL311: still works through a shim, with or without a warning


@dataclass(frozen=True)
class MovedName:
    """One 2.x name and what became of it on 3.x.

    `old` is the canonical dotted name 2.x code imports. A `module` row names a module that
    3.x does not have at all: it covers every member (`prefect.orion.schemas.x`). Any other
    row names one object, imported as `from <module> import <name>`.

    `error` is what 3.9.1 does with `statement`: the start of the line Python prints,
    `ExceptionType: message` (without the file path some ImportErrors append) or
    `DeprecationWarning: message`; for a silent alias plain words that match neither
    (`silent` is then True).

    `new` is the 3.x name of a 1:1 replacement, the same object or one with the same
    signature and behaviour: a fix can write it. `module:Attr.path` names an attribute of an
    importable object (`prefect.variables:Variable.get`); a plain dotted name is imported
    from the part before its last dot.
    """

    old: str
    change: Change
    hint: str  # what to use instead, as the message says it
    error: str
    new: str | None = None
    versions: VersionRange = PREFECT_3  # the releases where the old spelling fails or warns
    marks_2x: bool = False  # only 2.x has it: using it shows the code was written for 2.x
    module: bool = False
    # The 2.x releases where the old spelling works. Most rows work up to the last 2.x
    # (2.20.17, checked); a few names left already during 2.x (checked on the 2.7.0, 2.10.0,
    # 2.14.0, 2.16.0 and 2.20.17 wheels), so a 2.20 environment cannot prove them.
    old_versions: VersionRange = PREFECT_2

    @property
    def silent(self) -> bool:
        """The old spelling works on 3.x without any warning (an alias)."""
        return _PRINTED.match(self.error) is None

    @property
    def proven_on_2_20(self) -> bool:
        """Can a 2.20 environment show the old spelling working?"""
        return (2, 20) in self.old_versions

    @property
    def statement(self) -> str:
        """The Python statement that exercises the old spelling."""
        if self.module:
            return f"import {self.old}"
        module, _, name = self.old.rpartition(".")
        return f"from {module} import {name}"

    @property
    def new_statement(self) -> str | None:
        """Python code that reaches the new spelling (None without a 1:1 replacement)."""
        if self.new_import is None:
            return None
        module, name, path = self.new_import
        return f"from {module} import {name}\n{name}{path}"

    @property
    def new_import(self) -> tuple[str, str, str] | None:
        """`(module, name, attribute path)` of `new`: import `name` from `module`, then
        reach the object through `name` + `attribute path` (`""` or `".get"`)."""
        if self.new is None:
            return None
        if ":" in self.new:
            module, _, path = self.new.partition(":")
            name, dot, rest = path.partition(".")
            return module, name, dot + rest
        module, _, name = self.new.rpartition(".")
        return module, name, ""


_DEPLOY = "deploy with `flow.serve()`, `flow.deploy()` or `prefect deploy`"
_WORKERS = "use a work pool and a worker instead of an infrastructure block"
_UPGRADE_GUIDE = (
    "Refer to the upgrade guide for more information: "
    "https://www.prefect.io/docs/v3/how-to-guides/migrate/upgrade-agents-to-workers."
)


def _removed(old: str, detail: str) -> str:
    """Prefect's own error for a `REMOVED_IN_V3` entry (`migration.py`, `getattr_migration`)."""
    module, _, name = old.rpartition(".")
    return f"PrefectImportError: `{module}:{name}` has been removed. {detail}"


def _cannot_import(old: str) -> str:
    module, _, name = old.rpartition(".")
    return f"ImportError: cannot import name '{name}' from '{module}'"


def _no_module(old: str) -> str:
    return f"ModuleNotFoundError: No module named '{old}'"


def _removed_module(old: str, hint: str, *, old_versions: VersionRange = PREFECT_2) -> MovedName:
    """A 2.x module that 3.x does not have at all (every member with it)."""
    return MovedName(
        old,
        Change.REMOVED,
        hint,
        _no_module(old),
        marks_2x=True,
        module=True,
        old_versions=old_versions,
    )


def _moved(old: str, new: str) -> str:
    module, _, name = old.rpartition(".")
    return f"DeprecationWarning: '{module}:{name}' has been moved to '{new}'"


MOVED_NAMES: tuple[MovedName, ...] = (
    # -- deployments ---------------------------------------------------------------------------
    MovedName(
        "prefect.deployments.Deployment",
        Change.REMOVED,
        _DEPLOY,
        _removed(
            "prefect.deployments.Deployment",
            "Use `flow.serve()`, `flow.deploy()`, or `prefect deploy` instead.",
        ),
        marks_2x=True,
    ),
    MovedName(
        "prefect.deployments.deployments.Deployment",
        Change.REMOVED,
        _DEPLOY,
        _removed(
            "prefect.deployments.deployments.Deployment",
            "Use `flow.serve()`, `flow.deploy()`, or `prefect deploy` instead.",
        ),
        marks_2x=True,
    ),
    MovedName(
        "prefect.deployments.deployments.run_deployment",
        Change.REMOVED,
        "import `run_deployment` from `prefect.deployments`",
        _cannot_import("prefect.deployments.deployments.run_deployment"),
        new="prefect.deployments.run_deployment",
        marks_2x=True,
    ),
    MovedName(
        "prefect.deployments.DeploymentImage",
        Change.REMOVED,
        "use `prefect.docker.DockerImage`",
        _cannot_import("prefect.deployments.DeploymentImage"),
        new="prefect.docker.DockerImage",
        marks_2x=True,
    ),
    MovedName(
        "prefect.deployments.runner.DeploymentImage",
        Change.REMOVED,
        "use `prefect.docker.DockerImage`",
        _cannot_import("prefect.deployments.runner.DeploymentImage"),
        new="prefect.docker.DockerImage",
        marks_2x=True,
    ),
    MovedName(
        "prefect.deployments.RunnerDeployment",
        Change.REMOVED,
        "import `RunnerDeployment` from `prefect.deployments.runner`",
        _cannot_import("prefect.deployments.RunnerDeployment"),
        new="prefect.deployments.runner.RunnerDeployment",
        marks_2x=True,
    ),
    MovedName(
        "prefect.client.schemas.objects.MinimalDeploymentSchedule",
        Change.REMOVED,
        "use `prefect.client.schemas.actions.DeploymentScheduleCreate`, or pass "
        "`schedules=[...]` to `serve`/`deploy`",
        _removed(
            "prefect.client.schemas.objects.MinimalDeploymentSchedule",
            "Use `prefect.client.schemas.actions.DeploymentScheduleCreate` instead.",
        ),
        marks_2x=True,
    ),
    MovedName(
        "prefect.deployments.schedules.MinimalDeploymentSchedule",
        Change.REMOVED,
        "use `prefect.client.schemas.actions.DeploymentScheduleCreate`, or pass "
        "`schedules=[...]` to `serve`/`deploy`",
        _cannot_import("prefect.deployments.schedules.MinimalDeploymentSchedule"),
        marks_2x=True,
    ),
    # -- infrastructure blocks and agents ------------------------------------------------------
    MovedName(
        "prefect.infrastructure.Process",
        Change.REMOVED,
        f"{_WORKERS} (a `process` work pool)",
        _cannot_import("prefect.infrastructure.Process"),
        marks_2x=True,
    ),
    MovedName(
        "prefect.infrastructure.DockerContainer",
        Change.REMOVED,
        f"{_WORKERS} (a `docker` work pool, `prefect-docker`)",
        _cannot_import("prefect.infrastructure.DockerContainer"),
        marks_2x=True,
    ),
    MovedName(
        "prefect.infrastructure.KubernetesJob",
        Change.REMOVED,
        f"{_WORKERS} (a `kubernetes` work pool, `prefect-kubernetes`)",
        _removed("prefect.infrastructure.KubernetesJob", "Use workers instead. " + _UPGRADE_GUIDE),
        marks_2x=True,
    ),
    MovedName(
        "prefect.infrastructure.Infrastructure",
        Change.REMOVED,
        f"{_WORKERS}; custom integrations subclass `prefect.workers.base.BaseWorker`",
        _cannot_import("prefect.infrastructure.Infrastructure"),
        marks_2x=True,
    ),
    MovedName(
        "prefect.infrastructure.base.Infrastructure",
        Change.REMOVED,
        f"{_WORKERS}; custom integrations subclass `prefect.workers.base.BaseWorker`",
        _removed(
            "prefect.infrastructure.base.Infrastructure",
            "Use the `BaseWorker` class to create custom infrastructure integrations instead.",
        ),
        marks_2x=True,
    ),
    _removed_module(
        "prefect.infrastructure.process",
        f"{_WORKERS} (a `process` work pool)",
    ),
    _removed_module(
        "prefect.infrastructure.container",
        f"{_WORKERS} (a `docker` work pool, `prefect-docker`)",
    ),
    _removed_module(
        "prefect.infrastructure.kubernetes",
        f"{_WORKERS} (a `kubernetes` work pool, `prefect-kubernetes`)",
    ),
    _removed_module(
        "prefect.infrastructure.docker",
        f"{_WORKERS} (a `docker` work pool, `prefect-docker`)",
        # Renamed `prefect.infrastructure.container`; 2.16.0 still aliases it, 2.20.17 not.
        old_versions=VersionRange(before=(2, 17)),
    ),
    _removed_module(
        "prefect.blocks.kubernetes",
        "use `prefect_kubernetes.KubernetesClusterConfig` (the `prefect-kubernetes` package)",
    ),
    MovedName(
        "prefect.agent.PrefectAgent",
        Change.REMOVED,
        "use a worker (`prefect worker start --pool ...`) instead of an agent",
        _removed("prefect.agent.PrefectAgent", "Use workers instead. " + _UPGRADE_GUIDE),
        marks_2x=True,
    ),
    MovedName(
        "prefect.workers.block.BlockWorkerJobConfiguration",
        Change.REMOVED,
        "use a typed work pool and its worker instead of block-based infrastructure",
        _removed("prefect.workers.block.BlockWorkerJobConfiguration", _UPGRADE_GUIDE),
        marks_2x=True,
    ),
    MovedName(
        "prefect.workers.block.BlockWorker",
        Change.REMOVED,
        "use a typed work pool and its worker instead of block-based infrastructure",
        _cannot_import("prefect.workers.block.BlockWorker"),
        marks_2x=True,
    ),
    # -- storage and system blocks -------------------------------------------------------------
    MovedName(
        "prefect.filesystems.S3",
        Change.REMOVED,
        "use `prefect_aws.S3Bucket` (the `prefect-aws` package; its fields differ)",
        _removed("prefect.filesystems.S3", "Use `prefect_aws.S3Bucket` instead."),
        marks_2x=True,
    ),
    MovedName(
        "prefect.filesystems.GCS",
        Change.REMOVED,
        "use `prefect_gcp.GcsBucket` (the `prefect-gcp` package; its fields differ)",
        _removed("prefect.filesystems.GCS", "Use `prefect_gcp.GcsBucket` instead."),
        marks_2x=True,
    ),
    MovedName(
        "prefect.filesystems.Azure",
        Change.REMOVED,
        "use `prefect_azure.AzureBlobStorageContainer` (the `prefect-azure` package)",
        _removed(
            "prefect.filesystems.Azure", "Use `prefect_azure.AzureBlobStorageContainer` instead."
        ),
        marks_2x=True,
    ),
    MovedName(
        "prefect.filesystems.GitHub",
        Change.REMOVED,
        "use `prefect_github.GitHubRepository` (the `prefect-github` package)",
        _removed("prefect.filesystems.GitHub", "Use `prefect_github.GitHubRepository` instead."),
        marks_2x=True,
    ),
    # Removed in 3.5.0 (PR #19307): 3.0-3.4 still have them, so they are no 2.x evidence.
    MovedName(
        "prefect.blocks.system.JSON",
        Change.REMOVED,
        "store the value in a `prefect.variables.Variable`",
        _cannot_import("prefect.blocks.system.JSON"),
        versions=since("3.5"),
    ),
    MovedName(
        "prefect.blocks.system.String",
        Change.REMOVED,
        "store the value in a `prefect.variables.Variable`",
        _cannot_import("prefect.blocks.system.String"),
        versions=since("3.5"),
    ),
    MovedName(
        "prefect.blocks.system.DateTime",
        Change.REMOVED,
        "store the value in a `prefect.variables.Variable`",
        _cannot_import("prefect.blocks.system.DateTime"),
        versions=since("3.5"),
    ),
    # -- task runners, engine, runtime ---------------------------------------------------------
    MovedName(
        "prefect.task_runners.SequentialTaskRunner",
        Change.REMOVED,
        "call the tasks directly, or use `ThreadPoolTaskRunner(max_workers=1)`",
        _cannot_import("prefect.task_runners.SequentialTaskRunner"),
        marks_2x=True,
    ),
    MovedName(
        "prefect.task_runners.BaseTaskRunner",
        Change.REMOVED,
        "subclass `prefect.task_runners.TaskRunner` (its interface changed)",
        _cannot_import("prefect.task_runners.BaseTaskRunner"),
        marks_2x=True,
    ),
    MovedName(
        "prefect.context.PrefectObjectRegistry",
        Change.REMOVED,
        "Prefect 3 keeps no object registry; load flows with "
        "`prefect.flows.load_flow_from_entrypoint`",
        _removed("prefect.context.PrefectObjectRegistry", _UPGRADE_GUIDE),
        marks_2x=True,
    ),
    MovedName(
        "prefect.flows.load_flow_from_script",
        Change.REMOVED,
        "use `prefect.flows.load_flow_from_entrypoint('path/to/file.py:flow_name')`",
        _cannot_import("prefect.flows.load_flow_from_script"),
        marks_2x=True,
    ),
    MovedName(
        "prefect.flows.load_flows_from_script",
        Change.REMOVED,
        "use `prefect.flows.load_flow_from_entrypoint('path/to/file.py:flow_name')`",
        _cannot_import("prefect.flows.load_flows_from_script"),
        marks_2x=True,
    ),
    _removed_module(
        "prefect.task_server",
        "use `prefect.task_worker` (`serve`, `TaskWorker`)",
    ),
    MovedName(
        "prefect.runner.submit_to_runner",
        Change.REMOVED,
        "run a deployment (`run_deployment`) or a background task (`task.delay`)",
        _cannot_import("prefect.runner.submit_to_runner"),
        versions=since("3.5"),
    ),
    MovedName(
        "prefect.events.schemas.DeploymentTrigger",
        Change.REMOVED,
        "use a trigger from `prefect.events` (`DeploymentEventTrigger` and friends)",
        _cannot_import("prefect.events.schemas.DeploymentTrigger"),
        marks_2x=True,
    ),
    _removed_module(
        "prefect.orion",
        "`prefect.orion` is `prefect.server` since 2.10; client code uses "
        "`prefect.client.schemas` (schedules: `prefect.client.schemas.schedules`)",
        # 2.10.0 still aliases it to `prefect.server`; 2.14.0 no longer does.
        old_versions=VersionRange(before=(2, 11)),
    ),
    _removed_module(
        "prefect.pydantic",
        "import from `pydantic` itself (Prefect 3 uses Pydantic 2)",
    ),
    _removed_module(
        "prefect.software",
        "declare dependencies in the work pool or image instead",
    ),
    _removed_module(
        "prefect.deprecated",
        "its packaging and data documents are gone; deploy with `flow.deploy()`",
    ),
    # -- deprecated: work today through a shim -------------------------------------------------
    MovedName(
        "prefect.task_runners.ConcurrentTaskRunner",
        Change.DEPRECATED,
        "use `ThreadPoolTaskRunner`",
        "still importable as a silent alias of `ThreadPoolTaskRunner` (task_runners.py)",
        new="prefect.task_runners.ThreadPoolTaskRunner",
    ),
    MovedName(
        "prefect.client.get_client",
        Change.DEPRECATED,
        "use `prefect.get_client`",
        _moved("prefect.client.get_client", "prefect.client.orchestration:get_client"),
        new="prefect.get_client",
    ),
    MovedName(
        "prefect.engine.pause_flow_run",
        Change.DEPRECATED,
        "use `prefect.flow_runs.pause_flow_run`",
        _moved("prefect.engine.pause_flow_run", "prefect.flow_runs:pause_flow_run"),
        new="prefect.flow_runs.pause_flow_run",
    ),
    MovedName(
        "prefect.engine.resume_flow_run",
        Change.DEPRECATED,
        "use `prefect.flow_runs.resume_flow_run`",
        _moved("prefect.engine.resume_flow_run", "prefect.flow_runs:resume_flow_run"),
        new="prefect.flow_runs.resume_flow_run",
    ),
    MovedName(
        "prefect.engine.suspend_flow_run",
        Change.DEPRECATED,
        "use `prefect.flow_runs.suspend_flow_run`",
        _moved("prefect.engine.suspend_flow_run", "prefect.flow_runs:suspend_flow_run"),
        new="prefect.flow_runs.suspend_flow_run",
    ),
    MovedName(
        "prefect.deployments.load_flow_from_flow_run",
        Change.DEPRECATED,
        "use `prefect.flows.load_flow_from_flow_run`",
        _moved(
            "prefect.deployments.load_flow_from_flow_run", "prefect.flows:load_flow_from_flow_run"
        ),
        new="prefect.flows.load_flow_from_flow_run",
    ),
    MovedName(
        "prefect.deployments.deployments.load_flow_from_flow_run",
        Change.DEPRECATED,
        "use `prefect.flows.load_flow_from_flow_run`",
        _moved(
            "prefect.deployments.deployments.load_flow_from_flow_run",
            "prefect.flows:load_flow_from_flow_run",
        ),
        new="prefect.flows.load_flow_from_flow_run",
    ),
    MovedName(
        "prefect.variables.get",
        Change.DEPRECATED,
        "use `Variable.get` from `prefect.variables`",
        _moved("prefect.variables.get", "prefect.variables:Variable.get"),
        new="prefect.variables:Variable.get",
    ),
)

_BY_NAME: dict[str, MovedName] = {row.old: row for row in MOVED_NAMES}


def moved_name(canonical: str) -> MovedName | None:
    """The row for `canonical`, or for the removed module or object it lives in
    (`prefect.orion.schemas.x`, `prefect.deployments.Deployment.build_from_flow`)."""
    name = canonical
    while True:
        row = _BY_NAME.get(name)
        if row is not None:
            return row
        cut = name.rfind(".")
        if cut <= 0:
            return None
        name = name[:cut]


def evidence_rows() -> Iterable[MovedName]:
    return (row for row in MOVED_NAMES if row.marks_2x)
