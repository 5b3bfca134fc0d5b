"""The records every stage exchanges: positions, text edits, fixes and diagnostics."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n?|\n")


class Applicability(str, enum.Enum):
    """How safe a fix is; `--fix` applies `safe`, `--unsafe-fixes` adds `unsafe`."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class FixAvailability(str, enum.Enum):
    """Whether a rule offers a fix for every finding, for some shapes only, or never (ruff's
    `FixAvailability`); independent of how safe the fix is."""

    ALWAYS = "always"
    SOMETIMES = "sometimes"
    NEVER = "never"


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and 0-based column, counted in characters (LibCST's convention)."""

    line: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the characters `source[start:end]` with `content`."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Fix:
    """A set of edits that must be applied together, with a title and a safety level."""

    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]
    # (module, name) imports the fix may leave unused once every fix has been applied (name
    # None: `import module`).
    unused_imports: tuple[tuple[str, str | None], ...] = ()


@dataclass
class Diagnostic:
    code: str
    message: str
    start: Position
    end: Position
    # The rendered edits, when the caller asked for them (fix modes, JSON, editors).
    fix: Fix | None = None
    # Title and safety of the fix the rule offers, known even when it was not rendered.
    fix_title: str | None = None
    fix_applicability: Applicability | None = None
    # In a Jupyter notebook: the cell (1-based, counting every cell); `start` and `end` are
    # then inside that cell.
    cell: int | None = None

    @property
    def fixable(self) -> bool:
        return self.fix_applicability is not None

    def fix_applies(self, unsafe_fixes: bool) -> bool:
        """Whether `--fix` (with `--unsafe-fixes` when given) would apply this fix."""
        return self.fix_applicability == Applicability.SAFE or (
            unsafe_fixes and self.fix_applicability == Applicability.UNSAFE
        )


# Ruff's (and pycodestyle's) code for "this file could not be read": an I/O or decoding
# failure is not a finding about Prefect, so it has no rule page, but tools that read ruff's
# output already know the code.
IO_ERROR = "E902"


@dataclass
class FileError:
    """A file that could not be checked at all (unreadable, undecodable, binary...).

    `io` is False for an internal error (a bug): that one is not a diagnostic.
    """

    path: str
    message: str
    io: bool = True

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def diagnostic(self) -> Diagnostic:
        """The E902 diagnostic reporting this failure, at the start of the file."""
        start = Position(1, 0)
        return Diagnostic(IO_ERROR, self.message, start, start)


def line_starts(text: str) -> list[int]:
    """Offsets at which each line starts; `\\r\\n`, `\\n` and a lone `\\r` end a line."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def offset_to_position(starts: list[int], offset: int) -> Position:
    """Map a character offset to a position, given the `line_starts` of the text."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return Position(lo + 1, offset - starts[lo])


def position_to_offset(starts: list[int], position: Position) -> int:
    return starts[position.line - 1] + position.column
