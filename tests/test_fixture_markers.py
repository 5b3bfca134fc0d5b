"""The fixture marker grammar: `# error: PFL102:9 "never resolved"`, and how markers are
compared with diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from prefect_lint.config import all_codes
from tests.fixture_files import (
    Marker,
    MarkerError,
    compare,
    expected_markers,
    fixture_cases,
    parse_markers,
    quote,
)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


def test_one_marker() -> None:
    text = 'x = 1\nfut = add.submit(1)  # error: PFL102:7 "never resolved"\n'
    assert parse_markers(text) == [Marker(2, 7, "PFL102", "never resolved")]


def test_several_markers_on_one_line_and_a_trailing_comment() -> None:
    text = 'a(f(1), f(2))  # error: PFL104:3 "`f(...)`", PFL104:9 \'no "x"\'  # noqa: F821\n'
    assert parse_markers(text) == [
        Marker(1, 3, "PFL104", "`f(...)`"),
        Marker(1, 9, "PFL104", 'no "x"'),
    ]
    assert expected_markers(text) == {(1, "PFL104"): 2}


@pytest.mark.parametrize(
    "comment",
    [
        "# error: PFL102",  # the old short form
        "# error: PFL102, PFL102",
        "# error: PFL102:9",  # no fragment
        '# error: PFL102 "never resolved"',  # no column
        '# error: PFL102:0 "never resolved"',  # columns are 1-based
        '# error: PFL102:9 ""',
        '# error: PFL102:9 "never resolved" trailing words',
        '# error: PFL102:9 "never resolved",',
        '# error: PFL102:9 "never resolved" PFL102:12 "x"',  # a missing comma
    ],
)
def test_malformed_markers_are_errors(comment: str) -> None:
    with pytest.raises(MarkerError, match="line 2"):
        parse_markers(f"x = 1\ny = 2  {comment}\n")


@pytest.mark.parametrize("fragment", ["plain", 'has "double"', "has 'single'", "both \" and '"])
def test_quote_round_trips(fragment: str) -> None:
    text = f"x  # error: PFL108:1 {quote(fragment)}\n"
    assert parse_markers(text) == [Marker(1, 1, "PFL108", fragment)]


def test_compare_checks_position_code_and_fragment() -> None:
    markers = [Marker(3, 5, "PFL102", "never resolved")]
    good = [(3, 5, Finding("PFL102", "future of `a.submit()` never resolved: ..."))]
    expected, actual = compare(markers, good)
    assert actual == expected == ['3:PFL102:5 "never resolved"']
    for line, column, finding in [
        (3, 6, good[0][2]),  # another column
        (4, 5, good[0][2]),  # another line
        (3, 5, Finding("PFL103", good[0][2].message)),  # another code
        (3, 5, Finding("PFL102", "future of `a.submit()` is unresolved")),  # other words
    ]:
        expected, actual = compare(markers, [(line, column, finding)])
        assert actual != expected
        assert actual == [Marker(line, column, finding.code, finding.message).render()]


def test_compare_pairs_two_findings_at_one_position() -> None:
    # The shorter fragment matches both messages; the longer one must still get its own.
    markers = [Marker(1, 1, "PFL104", "no `.result()`"), Marker(1, 1, "PFL104", "no")]
    found = [
        (1, 1, Finding("PFL104", "which has no `.result()`")),
        (1, 1, Finding("PFL104", "which has no `.wait()`")),
    ]
    expected, actual = compare(markers, found)
    assert actual == expected
    expected, actual = compare(markers, list(reversed(found)))
    assert actual == expected
    expected, actual = compare(markers, found[1:] * 2)
    assert actual != expected


def test_every_fixture_marker_is_well_formed() -> None:
    """Parsing raises MarkerError on the first malformed marker (the short form included)."""
    codes = {
        marker.code
        for case in fixture_cases()
        for marker in parse_markers(case.read_text(encoding="utf-8"))
    }
    assert codes == set(all_codes())
