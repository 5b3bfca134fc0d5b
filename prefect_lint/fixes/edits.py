"""Text edits: derived once from a CST change, then shared by --fix, --diff, JSON and editors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from prefect_lint.diagnostics import Edit, Fix


def diff_edits(old: str, new: str) -> list[Edit]:
    """The smallest line-anchored edits that turn `old` into `new`."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_offsets = [0]
    for line in old_lines:
        old_offsets.append(old_offsets[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = old_offsets[i1], old_offsets[i2]
        edits.append(trimmed_edit(start, end, old[start:end], "".join(new_lines[j1:j2])))
    return edits


def trimmed_edit(start: int, end: int, replaced: str, content: str) -> Edit:
    """The edit replacing `replaced` (at start:end) by `content`, trimmed of what both sides
    share so it covers only what really changed."""
    prefix = 0
    limit = min(len(replaced), len(content))
    while prefix < limit and replaced[prefix] == content[prefix]:
        prefix += 1
    suffix = 0
    limit -= prefix
    while suffix < limit and replaced[-1 - suffix] == content[-1 - suffix]:
        suffix += 1
    return Edit(start + prefix, end - suffix, content[prefix : len(content) - suffix])


def _conflicts(edit: Edit, taken: Sequence[Edit]) -> bool:
    # Touching edits conflict too: two insertions at one offset have no defined order.
    return any(edit.start <= other.end and other.start <= edit.end for other in taken)


def select_compatible(fixes: Iterable[Fix]) -> list[Fix]:
    """Fixes that can be applied together, earliest first; a later overlapping one waits."""
    chosen: list[Fix] = []
    taken: list[Edit] = []
    seen: set[tuple[Edit, ...]] = set()
    for fix in sorted(fixes, key=lambda f: min(e.start for e in f.edits)):
        if fix.edits in seen:
            continue
        if any(_conflicts(edit, taken) for edit in fix.edits):
            continue
        chosen.append(fix)
        taken.extend(fix.edits)
        seen.add(fix.edits)
    return chosen


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (offsets refer to `text`)."""
    pieces: list[str] = []
    cursor = len(text)
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        pieces.append(text[edit.end : cursor])
        pieces.append(edit.content)
        cursor = edit.start
    pieces.append(text[:cursor])
    return "".join(reversed(pieces))
