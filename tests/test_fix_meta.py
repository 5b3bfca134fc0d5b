"""`FixMeta`: a rule either declares one fix record or has none; the record cannot say
"never"."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prefect_lint.diagnostics import Applicability, FixAvailability
from prefect_lint.records import FixMeta, RuleMeta
from prefect_lint.versions import ALL_VERSIONS, since


def test_a_fix_record_cannot_be_never_available() -> None:
    with pytest.raises(ValueError, match="without a fix"):
        FixMeta(title="x", safety=Applicability.SAFE, availability=FixAvailability.NEVER)


def test_a_rule_without_a_fix_is_never_fixable() -> None:
    meta = RuleMeta(
        code="PFL998", name="no-fix", summary="s", docs="", since="0.0.0", versions=ALL_VERSIONS
    )
    assert meta.availability is FixAvailability.NEVER
    assert meta.fix_label == "not available"
    assert meta.versions_line() == f"Reported on {ALL_VERSIONS.describe()}."


def test_the_fix_versions_default_to_the_rules() -> None:
    fix = FixMeta(title="t", safety=Applicability.UNSAFE)
    meta = RuleMeta(
        code="PFL998", name="a-fix", summary="s", docs="", since="0.0.0", versions=since("3.1")
    )
    with_fix = replace(meta, fix=fix)
    assert with_fix.effective_fix_versions == since("3.1")
    assert with_fix.fix_label == "sometimes available (unsafe: `--unsafe-fixes`)"
    narrower = replace(meta, fix=FixMeta("t", Applicability.SAFE, versions=since("3.5")))
    assert narrower.effective_fix_versions == since("3.5")
