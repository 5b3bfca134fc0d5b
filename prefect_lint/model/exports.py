"""What a project module exports to the others, and the per-process project indexes.

The index (`model.project`) finds, parses and caches project modules; what a module's
summary holds is decided here, above both the index and the analyses whose facts travel
across modules (a task's unpicklable return, for PFL201).
"""

from __future__ import annotations

import dataclasses

from prefect_lint.model.api import NO_USER_DECORATORS, UserDecorators
from prefect_lint.model.boundary import unpicklable_return
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.pickling import mentions_unpicklable_makers
from prefect_lint.model.project import ProjectIndex, Summary
from prefect_lint.model.root import find_project_root
from prefect_lint.model.values import Decorator, Dotted, Flow, Runner, Task, Value


def _without_nodes(value: Value | None) -> Value | None:
    """The part of a value another module can use, without references into the tree."""
    if isinstance(value, Flow) and value.task_runner is not None:
        return dataclasses.replace(value, node=None, task_runner=Runner(value.task_runner.name))
    if isinstance(value, (Flow, Task)):
        return dataclasses.replace(value, node=None)
    if isinstance(value, Dotted):
        return value
    if isinstance(value, Runner):
        return Runner(value.name)
    if isinstance(value, Decorator):
        return Decorator(value.kind, None)
    return None  # plain functions, classes...: nothing a rule needs across modules


def summarize(model: ModuleModel) -> Summary:
    """`model`'s top-level names as another module sees them."""
    scope = model.module_scope
    source = model.source
    returns_matter = source is None or mentions_unpicklable_makers(source)
    summary: Summary = {}
    for name in scope.bindings:
        value = model.lookup(name, scope)
        if returns_matter and isinstance(value, Task) and value.node is not None:
            # What the task returns matters to a flow in another module that submits it.
            found = unpicklable_return(model, value, scope)
            if found is not None:
                value = dataclasses.replace(value, unpicklable_return=found[1].kind)
        summary[name] = _without_nodes(value)
    return summary


_indexes: dict[tuple[str, UserDecorators], ProjectIndex] = {}


def forget_indexes() -> None:
    """Drop every project index of this process: the files may have changed since (a new
    round of `check --watch`)."""
    for index in _indexes.values():
        index.forget()
    _indexes.clear()


def index_for(path: str, decorators: UserDecorators = NO_USER_DECORATORS) -> ProjectIndex:
    """The (per-process) index of the project `path` belongs to."""
    key = (find_project_root(path), decorators)
    index = _indexes.get(key)
    if index is None:
        index = ProjectIndex(key[0], decorators, summarize=summarize)
        _indexes[key] = index
    return index
