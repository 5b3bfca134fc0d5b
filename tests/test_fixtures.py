"""Every fixture: the markers are exactly the diagnostics (line, column, code and a fragment
of the message), and `--fix` gives the golden."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from prefect_lint.config import all_codes, find_config, load_settings
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import fix_source
from prefect_lint.model.project import ProjectIndex, index_for
from tests.fixture_files import (
    case_id,
    compare,
    expected_markers,
    fixture_cases,
    golden_path,
    parse_markers,
)

ALL = frozenset(all_codes())
CASES = fixture_cases()


def index_of(case: Path) -> ProjectIndex:
    """The project index the CLI would use, with the fixture project's configured wrappers."""
    settings = load_settings(find_config(str(case.parent)))
    return index_for(str(case), settings.user_decorators)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_diagnostics_match_markers(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    diagnostics = check_source(text, str(case), ALL, index=index_of(case))
    # Columns as the CLI prints them (1-based), so a marker reads like `path:line:col`.
    found = [(d.start.line, d.start.column + 1, d) for d in diagnostics]
    expected, actual = compare(parse_markers(text), found)
    assert actual == expected


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_fix_matches_golden(case: Path, request: pytest.FixtureRequest) -> None:
    text = case.read_text(encoding="utf-8")
    outcome = fix_source(text, str(case), ALL, unsafe=True, index=index_of(case))
    assert not outcome.dropped
    golden = golden_path(case)
    if request.config.getoption("--update-goldens"):
        if outcome.text != text:
            golden.write_text(outcome.text, encoding="utf-8")
        elif golden.exists():
            golden.unlink()
    if outcome.text == text:
        assert not golden.exists(), f"{golden.name} exists but the fixer changes nothing"
        return
    assert golden.exists(), f"missing golden {golden.name}; run pytest --update-goldens"
    assert outcome.text == golden.read_text(encoding="utf-8")
    # The golden output is a fixed point: nothing fixable remains, fixing again is a no-op.
    again = fix_source(outcome.text, str(case), ALL, unsafe=True, index=index_of(case))
    assert again.text == outcome.text
    assert not [d for d in again.diagnostics if d.fixable]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_fixture_is_valid_python(case: Path) -> None:
    if case.parent.name == "PFL000":
        pytest.skip("syntax-error fixtures are invalid on purpose")
    for path in (case, golden_path(case)):
        if path.exists():
            compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_every_rule_has_trigger_and_silent_fixtures() -> None:
    codes_seen: set[str] = set()
    for case in CASES:
        codes_seen.update(code for _, code in expected_markers(case.read_text(encoding="utf-8")))
    assert codes_seen == ALL
    for code in ALL - {"PFL000"}:
        assert any(
            c.name.startswith("ok_")
            for c in (Path(case_id(x)) for x in CASES)
            if c.parts[0] == code
        ), code


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_safe_fixes_create_no_finding(case: Path) -> None:
    """After the safe fixes, no rule reports more than it did before (issue 11: a safe
    PFL107 or PFL104 fix in a loop turned into a PFL103)."""
    text = case.read_text(encoding="utf-8")
    index = index_of(case)
    before = Counter(d.code for d in check_source(text, str(case), ALL, index=index))
    outcome = fix_source(text, str(case), ALL, unsafe=False, index=index)
    after = Counter(d.code for d in check_source(outcome.text, str(case), ALL, index=index))
    assert after <= before, after - before
