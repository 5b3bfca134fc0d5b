"""What Prefect's public names are, after following re-exports.

The facts: docs/prefect-semantics.md#wait-lives-in-prefect-futures,
docs/prefect-semantics.md#infrastructure-bound-flow-submit and
docs/prefect-semantics.md#migration-table (the `ConcurrentTaskRunner` alias).

Every dotted name the linter meets is normalised here, so `prefect.flows.flow`,
`prefect.main.flow` and `prefect.flow` are one thing to the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FLOW = "prefect.flow"
TASK = "prefect.task"
FUTURES_WAIT = "prefect.futures.wait"
FUTURES_AS_COMPLETED = "prefect.futures.as_completed"
BIND_FLOW_TO_INFRASTRUCTURE = "prefect.flows.bind_flow_to_infrastructure"
RUN_DEPLOYMENT = "prefect.deployments.run_deployment"
ARUN_DEPLOYMENT = "prefect.deployments.arun_deployment"

THREAD_POOL_RUNNER = "prefect.task_runners.ThreadPoolTaskRunner"
PROCESS_POOL_RUNNER = "prefect.task_runners.ProcessPoolTaskRunner"
DASK_RUNNER = "prefect_dask.DaskTaskRunner"
RAY_RUNNER = "prefect_ray.RayTaskRunner"

# Names that Prefect re-exports under more than one path.
_ALIASES: dict[str, str] = {
    "prefect.flows.flow": FLOW,
    "prefect.main.flow": FLOW,
    "prefect.tasks.task": TASK,
    "prefect.main.task": TASK,
    "prefect.flows.Flow": "prefect.Flow",
    "prefect.main.Flow": "prefect.Flow",
    "prefect.tasks.Task": "prefect.Task",
    "prefect.main.Task": "prefect.Task",
    "prefect.deployments.flow_runs.run_deployment": RUN_DEPLOYMENT,
    "prefect.deployments.flow_runs.arun_deployment": ARUN_DEPLOYMENT,
    # A silent alias kept in 3.x (task_runners.py).
    "prefect.task_runners.ConcurrentTaskRunner": THREAD_POOL_RUNNER,
    "prefect_dask.task_runners.DaskTaskRunner": DASK_RUNNER,
    "prefect_ray.task_runners.RayTaskRunner": RAY_RUNNER,
}

# Names people import from `prefect` that only exist in `prefect.futures`.
FUTURES_ONLY = {"wait": FUTURES_WAIT, "as_completed": FUTURES_AS_COMPLETED}

# Infrastructure decorators return an `InfrastructureBoundFlow`, the one flow class that has
# `.submit()` (docs/prefect-semantics.md#infrastructure-bound-flow-submit).
_INFRA_PACKAGES = (
    "prefect_kubernetes",
    "prefect_aws",
    "prefect_docker",
    "prefect_gcp",
    "prefect_azure",
)
_INFRA_DECORATOR_NAMES = frozenset(
    {"kubernetes", "ecs", "docker", "cloud_run", "vertex_ai", "azure_container_instance"}
)


def canonical(name: str) -> str:
    """Normalise a dotted name to the one path the rules compare against."""
    return _ALIASES.get(name, name)


def is_infrastructure_decorator(name: str) -> bool:
    package, _, rest = name.partition(".")
    return (
        package in _INFRA_PACKAGES
        and bool(rest)
        and rest.rpartition(".")[2] in _INFRA_DECORATOR_NAMES
    )


def is_prefect_name(name: str) -> bool:
    return name == "prefect" or name.startswith("prefect.")


@dataclass(frozen=True)
class UserDecorators:
    """Company helpers that wrap `prefect.flow` / `prefect.task`, named in the configuration
    (`extend-flow-decorators`, `extend-task-decorators`) by their canonical dotted names."""

    flows: frozenset[str] = frozenset()
    tasks: frozenset[str] = frozenset()

    def kind_of(self, name: str) -> Literal["flow", "task"] | None:
        if name == FLOW or name in self.flows:
            return "flow"
        if name == TASK or name in self.tasks:
            return "task"
        return None

    def mentioned_in(self, text: str) -> bool:
        """A file that uses a configured decorator need not mention prefect at all."""
        return any(name.rpartition(".")[2] in text for name in self.flows | self.tasks)


NO_USER_DECORATORS = UserDecorators()
