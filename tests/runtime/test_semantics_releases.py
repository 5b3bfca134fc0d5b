"""Facts of docs/prefect-semantics.md about when something changed, read from Prefect's
published wheels (downloaded once into the cache, like test_fix_releases.py).

Run: `.venv/bin/python -m pytest -q -m prefect2 tests/runtime/test_semantics_releases.py`.
"""

from __future__ import annotations

import zipfile

import pytest

from tests.runtime.prefect2 import prefect_wheel

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]

GC_WARNING = "A future was garbage collected before it resolved."


# -- #unwaited-futures-are-abandoned: the last release that warned was 3.3 ---------------------


@pytest.mark.parametrize(("release", "warns"), [("3.0.0", True), ("3.3.0", True), ("3.4.0", False)])
def test_unwaited_future_warning_left_in_3_4(release: str, warns: bool) -> None:
    with zipfile.ZipFile(prefect_wheel(release)) as wheel:
        futures = wheel.read("prefect/futures.py").decode()
    assert (GC_WARNING in futures) is warns
