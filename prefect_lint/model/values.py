"""What an expression is known to be. `None` everywhere means "unknown": rules stay silent on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import libcst as cst

from prefect_lint.model.pickling import UnpicklableKind


@dataclass(frozen=True)
class Dotted:
    """An imported module or object, by its canonical dotted name (`prefect.futures.wait`)."""

    name: str


@dataclass(frozen=True)
class Function:
    """A plain function definition, before any decorator."""

    node: cst.FunctionDef

    @property
    def is_async(self) -> bool:
        return self.node.asynchronous is not None


@dataclass(frozen=True)
class Runner:
    """A task runner given to a flow: its canonical class name (None if unknown) and call."""

    name: str | None
    call: cst.Call | None = None


@dataclass(frozen=True)
class Flow:
    """A `prefect.Flow` object.

    `infrastructure_bound` flows (`@kubernetes(...)` & co.) are the only ones with `.submit()`.
    """

    name: str | None
    node: cst.FunctionDef | None
    is_async: bool | None
    task_runner: Runner | None = None
    infrastructure_bound: bool = False


@dataclass(frozen=True)
class Task:
    """A `prefect.Task` object (including a flow wrapped by `@task`).

    `default_cache`: the default cache policy hashes its inputs (True), the task sets its own
    caching (False), or it cannot be told (None). `unpicklable_return` is only filled in for
    tasks summarized from another module (whose tree is gone): what a return builds that
    cannot be pickled, if anything.
    """

    name: str | None
    node: cst.FunctionDef | None
    is_async: bool | None
    default_cache: bool | None = True
    unpicklable_return: UnpicklableKind | None = None


@dataclass(frozen=True)
class Decorator:
    """A called decorator factory such as `flow(retries=2)`, waiting for its function."""

    kind: Literal["flow", "task", "infrastructure"]
    call: cst.Call | None  # None once summarized for another module


@dataclass(frozen=True)
class BoundMethod:
    owner: Flow | Task
    name: str


Value = Dotted | Function | Runner | Flow | Task | Decorator | BoundMethod
