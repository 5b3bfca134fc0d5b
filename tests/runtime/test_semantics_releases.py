"""Facts of docs/prefect-semantics.md about when something changed, read from Prefect's
published wheels (downloaded once into the cache, like test_fix_releases.py).

Run: `.venv/bin/python -m pytest -q -m prefect2 tests/runtime/test_semantics_releases.py`.
"""

from __future__ import annotations

import zipfile

import pytest

from tests.runtime.prefect2 import prefect_wheel
from tests.runtime.test_migration_table import _exists_in_wheel

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]

GC_WARNING = "A future was garbage collected before it resolved."


# -- #unwaited-futures-are-abandoned: the last release that warned was 3.3 ---------------------


@pytest.mark.parametrize(("release", "warns"), [("3.0.0", True), ("3.3.0", True), ("3.4.0", False)])
def test_unwaited_future_warning_left_in_3_4(release: str, warns: bool) -> None:
    with zipfile.ZipFile(prefect_wheel(release)) as wheel:
        futures = wheel.read("prefect/futures.py").decode()
    assert (GC_WARNING in futures) is warns


# -- #wait-lives-in-prefect-futures: no 3.x release exports `wait` from the top-level package -----

RELEASES_3X = ["3.0.0", "3.1.15", "3.2.15", "3.3.0", "3.4.0"]


@pytest.mark.parametrize("release", RELEASES_3X)
def test_wait_is_in_prefect_futures_and_not_in_prefect(release: str) -> None:
    with zipfile.ZipFile(prefect_wheel(release)) as wheel:
        # The reader sees names the top-level package does export.
        assert _exists_in_wheel(wheel, "prefect.flow")
        for name in ("wait", "as_completed"):
            assert not _exists_in_wheel(wheel, f"prefect.{name}"), name
            assert _exists_in_wheel(wheel, f"prefect.futures.{name}"), name
