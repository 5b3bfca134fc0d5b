"""The evidence prefilter on real Prefect 2 code: Prefect 2.20's own source, which uses the
2.x-only names (deployments, infrastructure, agents) everywhere, in every style."""

from __future__ import annotations

import pytest

from prefect_lint.model.evidence import may_have_evidence, scan_text
from tests.runtime.prefect2 import prefect2_environment

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]


def test_the_prefilter_keeps_every_prefect_2_module_with_evidence() -> None:
    packages = sorted((prefect2_environment() / "venv" / "lib").glob("python*/site-packages"))
    modules = sorted((packages[0] / "prefect").rglob("*.py"))
    assert len(modules) > 500
    found = kept = 0
    for path in modules:
        text = path.read_text(encoding="utf-8")
        passes = may_have_evidence(text)
        kept += passes
        for variant in (text, text.replace("\n", "\r\n")):
            if scan_text(variant, str(path)):
                found += variant is text
                assert may_have_evidence(variant), path
    # Measured on 2.20.17: 46 modules hold evidence, 53 pass the prefilter.
    assert found > 30
    assert kept < 2 * found
