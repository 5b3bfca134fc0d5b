"""Reading the fixture tree: `# error: PFL102:9 "never resolved"` markers and golden files.

A marker is a comment on the line where a diagnostic starts. Each item names the code, the
1-based column the CLI prints (`path:line:column`) and a fragment of the message, quoted as a
Python string literal (double or single quotes, so a fragment can hold the other kind):

    fut = add.submit(1)  # error: PFL102:11 "future of `add.submit()` never resolved"
    fetch(1).result(); fetch(2).wait()  # error: PFL104:5 "no `.result()`", PFL104:24 "no `.wait()`"

Several items on one line are separated by commas. The short form `# error: PFL102` without
column and fragment is rejected, so every fixture pins where a finding is and what it says.
Text after the items must be another comment (`# noqa: F821`) or nothing. README.md
(Development) points here.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

_START = re.compile(r"#\s*error:")
_STRING = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_ITEM = re.compile(rf"\s*(?P<code>PFL\d{{3}}):(?P<column>[1-9]\d*)\s+(?P<fragment>{_STRING})\s*")
_REST = re.compile(r"(?:#.*)?")
GRAMMAR = '`# error: PFLxxx:COLUMN "message fragment"[, PFLxxx:COLUMN "..."]`'


class MarkerError(ValueError):
    """A `# error:` comment that does not follow the marker grammar."""


@dataclass(frozen=True, order=True)
class Marker:
    line: int
    column: int  # 1-based, as the CLI prints it
    code: str
    fragment: str

    def item(self) -> str:
        """The marker item as written in a fixture: `PFL102:9 "never resolved"`."""
        return f"{self.code}:{self.column} {quote(self.fragment)}"

    def render(self) -> str:
        return f"{self.line}:{self.item()}"


def quote(fragment: str) -> str:
    """The fragment as a string literal for a marker: double quotes unless it holds one."""
    if "\\" not in fragment and '"' not in fragment:
        return f'"{fragment}"'
    if "\\" not in fragment and "'" not in fragment:
        return f"'{fragment}'"
    return repr(fragment)


def fixture_cases() -> list[Path]:
    """Every fixture input (not the golden outputs), sorted."""
    return sorted(
        p for p in FIXTURES.rglob("*.py") if not p.name.endswith(".fixed.py") and p.is_file()
    )


def golden_path(case: Path) -> Path:
    return case.with_name(case.name[: -len(".py")] + ".fixed.py")


def parse_marker_comment(comment: str, line: int) -> list[Marker]:
    """The items of one `# error: ...` comment (the text from `#` on); MarkerError if malformed."""
    start = _START.match(comment)
    if start is None:
        raise MarkerError(f"line {line}: not a marker: {comment!r}")
    markers: list[Marker] = []
    position = start.end()
    while True:
        item = _ITEM.match(comment, position)
        if item is None:
            raise MarkerError(
                f"line {line}: malformed marker {comment.strip()!r}; expected {GRAMMAR}"
            )
        fragment = ast.literal_eval(item.group("fragment"))
        if not fragment.strip():
            raise MarkerError(f"line {line}: empty message fragment in {comment.strip()!r}")
        markers.append(Marker(line, int(item.group("column")), item.group("code"), fragment))
        position = item.end()
        if comment.startswith(",", position):
            position += 1
            continue
        if _REST.fullmatch(comment, position) is None:
            raise MarkerError(
                f"line {line}: unexpected text after the marker items in {comment.strip()!r}"
            )
        return markers


def parse_markers(text: str) -> list[Marker]:
    """Every marker item in a fixture, in line order; MarkerError on the first malformed one."""
    markers: list[Marker] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _START.search(line)
        if match:
            markers.extend(parse_marker_comment(line[match.start() :], number))
    return markers


def expected_markers(text: str) -> Counter[tuple[int, str]]:
    """How many findings of each code each line expects (without columns and fragments)."""
    return Counter((marker.line, marker.code) for marker in parse_markers(text))


class Found(Protocol):
    """What a marker is compared with: a diagnostic's code, start and message."""

    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...


def compare(
    markers: Sequence[Marker], found: Sequence[tuple[int, int, Found]]
) -> tuple[list[str], list[str]]:
    """(expected, actual) as lines in position order, to assert equal; `found` holds (line,
    1-based column, diagnostic). A diagnostic is shown as the marker it satisfies (same line,
    column and code, message containing the fragment), else with its whole message, so a
    failing assertion diffs the marker against what the linter says."""
    unused: dict[tuple[int, int, str], list[Marker]] = {}
    # Longest fragments first: with two findings at one position, the more specific
    # fragment picks its message before a shorter one that might match both.
    for marker in sorted(markers, key=lambda m: -len(m.fragment)):
        unused.setdefault((marker.line, marker.column, marker.code), []).append(marker)
    actual: list[Marker] = []
    for line, column, diagnostic in found:
        candidates = unused.get((line, column, diagnostic.code), [])
        hit = next((m for m in candidates if m.fragment in diagnostic.message), None)
        if hit is not None:
            candidates.remove(hit)
            actual.append(hit)
        else:
            actual.append(Marker(line, column, diagnostic.code, diagnostic.message))
    return [m.render() for m in sorted(markers)], [m.render() for m in sorted(actual)]


def case_id(case: Path) -> str:
    return str(case.relative_to(FIXTURES))
