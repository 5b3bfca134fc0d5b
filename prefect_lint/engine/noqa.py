"""`# noqa` and `# noqa: PFL101,PFL105` comments, flake8's syntax (codes match by prefix)."""

from __future__ import annotations

import re

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[,\s]+")


def _comment(line: str) -> str | None:
    """The comment at the end of a physical line, skipping `#` inside string literals."""
    quote: str | None = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote is not None:
            if char == "\\":
                index += 1
            elif line.startswith(quote, index):
                index += len(quote) - 1
                quote = None
        elif char in "\"'":
            quote = char * 3 if line.startswith(char * 3, index) else char
            index += len(quote) - 1
        elif char == "#":
            return line[index:]
        index += 1
    return None


def suppressed_codes(line: str) -> frozenset[str] | None:
    """None if the line has no noqa; an empty set for a bare `# noqa` (suppresses all)."""
    comment = _comment(line)
    if comment is None:
        return None
    match = _NOQA.search(comment)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset()
    return frozenset(c.upper() for c in _SEPARATOR.split(codes.strip()) if c)


def is_suppressed(code: str, suppressed: frozenset[str] | None) -> bool:
    if suppressed is None:
        return False
    return not suppressed or any(code.startswith(prefix) for prefix in suppressed)


_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def suppression_edit(line: str, code: str) -> tuple[int, int, str]:
    """How to make a physical line suppress `code`: (start, end, replacement) within `line`.

    The code joins an existing `# noqa: A, B` (after its last code, so words that follow stay
    as written); otherwise `  # noqa: CODE` ends the line.
    """
    comment = _comment(line)
    if comment is not None:
        match = _NOQA.search(comment)
        if match is not None and match.group("codes"):
            base = len(line) - len(comment) + match.start("codes")
            last = list(_CODE.finditer(match.group("codes")))
            at = base + (last[-1].end() if last else len(match.group("codes")))
            return at, at, f", {code}"
    end = len(line.rstrip())
    return end, len(line), f"  # noqa: {code}"
