"""The first 3.x release of each name a fix writes, read from Prefect's published wheels, and
the fix ranges that follow from it.

A fix is offered for a target `(major, minor)` only if every release of that minor has the
name: a name first shipped in a patch release (`NO_CACHE` in 3.1.12) is offered from the next
minor on, since `prefect>=3.1` allows 3.1.0.

Run: `.venv/bin/python -m pytest -q -m prefect2 tests/runtime/test_fix_releases.py`.
"""

from __future__ import annotations

import zipfile

import pytest

from prefect_lint.rules import RULES_BY_CODE
from prefect_lint.rules.process_boundary import unpicklable_argument
from prefect_lint.versions import VersionRange
from tests.runtime.prefect2 import prefect_wheel
from tests.runtime.test_migration_table import _exists_in_wheel

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]

# name a fix writes, the last release without it (None: 2.x), the first release with it,
# and the range the fix is offered for.
CASES = [
    (
        "prefect.futures.wait",
        None,
        "3.0.0",
        RULES_BY_CODE["PFL102"].meta.effective_fix_versions,
    ),
    (
        "prefect.futures.as_completed",
        None,
        "3.0.0",
        RULES_BY_CODE["PFL105"].meta.effective_fix_versions,
    ),
    (
        "prefect.task_runners.ThreadPoolTaskRunner",
        None,
        "3.0.0",
        RULES_BY_CODE["PFL201"].meta.effective_fix_versions,
    ),
    (
        "prefect.futures.PrefectFlowRunFuture",
        "3.2.7",
        "3.2.8",
        RULES_BY_CODE["PFL106"].meta.effective_fix_versions,
    ),
    (
        "prefect.cache_policies.NO_CACHE",
        "3.1.11",
        "3.1.12",
        unpicklable_argument._NO_CACHE_VERSIONS,
    ),
]


def _first_full_minor(release: str) -> tuple[int, int]:
    major, minor, patch = (int(part) for part in release.split("."))
    return (major, minor) if patch == 0 else (major, minor + 1)


@pytest.mark.parametrize(
    ("name", "without", "first", "offered"), CASES, ids=[case[0] for case in CASES]
)
def test_fix_is_offered_only_where_its_names_exist(
    name: str, without: str | None, first: str, offered: VersionRange
) -> None:
    with zipfile.ZipFile(prefect_wheel(first)) as wheel:
        assert _exists_in_wheel(wheel, name)
    if without is not None:
        with zipfile.ZipFile(prefect_wheel(without)) as wheel:
            assert not _exists_in_wheel(wheel, name)
    assert offered.since == _first_full_minor(first), offered
