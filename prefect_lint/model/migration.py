"""The Prefect 2 -> 3 migration table: names 2.x code uses that 3.x removed, moved or changed.

One table serves two readers: the PFL3xx rules (what fails on 3.x and what to use instead) and
the target detection (a name only 2.x has shows the code was written for Prefect 2). Every row
is proven on both sides by the tests: the old spelling works on 2.20 and fails or warns on 3.x
as the row says.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from prefect_lint.versions import PREFECT_3, VersionRange


class Change(str, enum.Enum):
    REMOVED = "removed"  # PFL301: ImportError, PrefectImportError or AttributeError on 3.x
    DEPRECATED = "deprecated"  # PFL311: still works through a shim, with or without a warning


@dataclass(frozen=True)
class MovedName:
    """One 2.x name and what became of it on 3.x."""

    old: str  # canonical dotted name as 2.x code imports it; a module covers its members
    change: Change
    hint: str  # what to use instead, as the message says it
    error: str  # what 3.x does with the old spelling
    new: str | None = None  # the 3.x canonical name of a 1:1 rename (a fix can write it)
    versions: VersionRange = PREFECT_3  # the releases where the old spelling fails or warns
    marks_2x: bool = False  # only 2.x has it: using it shows the code was written for 2.x


MOVED_NAMES: tuple[MovedName, ...] = (
    MovedName(
        "prefect.deployments.Deployment",
        Change.REMOVED,
        "deploy with `flow.deploy()`, `flow.serve()` or `prefect deploy`",
        "PrefectImportError: `prefect.deployments:Deployment` has been removed",
        marks_2x=True,
    ),
    MovedName(
        "prefect.infrastructure",
        Change.REMOVED,
        "use a work pool and a worker instead of an infrastructure block",
        "PrefectImportError: `prefect.infrastructure` has been removed",
        marks_2x=True,
    ),
    MovedName(
        "prefect.agent",
        Change.REMOVED,
        "use a worker (`prefect worker start --pool ...`) instead of an agent",
        "PrefectImportError: `prefect.agent` has been removed",
        marks_2x=True,
    ),
    MovedName(
        "prefect.orion",
        Change.REMOVED,
        "`prefect.orion` is `prefect.server` since 2.10",
        "ModuleNotFoundError: No module named 'prefect.orion'",
        marks_2x=True,
    ),
    MovedName(
        "prefect.task_runners.SequentialTaskRunner",
        Change.REMOVED,
        "call the tasks directly, or use `ThreadPoolTaskRunner(max_workers=1)`",
        "ImportError: cannot import name 'SequentialTaskRunner' from 'prefect.task_runners'",
        marks_2x=True,
    ),
    MovedName(
        "prefect.task_runners.ConcurrentTaskRunner",
        Change.DEPRECATED,
        "use `ThreadPoolTaskRunner`",
        "still importable as a silent alias of `ThreadPoolTaskRunner`",
        new="prefect.task_runners.ThreadPoolTaskRunner",
    ),
)

_BY_NAME: dict[str, MovedName] = {row.old: row for row in MOVED_NAMES}


def moved_name(canonical: str) -> MovedName | None:
    """The row for `canonical` or for the module it lives in (`prefect.orion.schemas.x`)."""
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
