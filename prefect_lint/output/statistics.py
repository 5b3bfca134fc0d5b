"""`--statistics`: how often each code was reported, instead of the diagnostics (like ruff)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from prefect_lint.diagnostics import IO_ERROR
from prefect_lint.engine.report import FileReport
from prefect_lint.rules import rule_meta


@dataclass(frozen=True)
class CodeCount:
    code: str
    name: str
    count: int
    fixable_count: int  # fixes the current mode applies (`--unsafe-fixes` widens it)

    @property
    def marker(self) -> str:
        if self.fixable_count == self.count:
            return "[*]"
        return "[-]" if self.fixable_count else "[ ]"


def count_codes(reports: Sequence[FileReport], *, unsafe_fixes: bool) -> list[CodeCount]:
    """Most frequent first; equal counts in code order."""
    counts: dict[str, list[int]] = {}
    for report in reports:
        for diagnostic in report.diagnostics:
            entry = counts.setdefault(diagnostic.code, [0, 0])
            entry[0] += 1
            entry[1] += diagnostic.fix_applies(unsafe_fixes)
    rows = []
    for code in sorted(counts):
        meta = rule_meta(code)
        count, fixable = counts[code]
        name = meta.name if meta else ("io-error" if code == IO_ERROR else "")
        rows.append(CodeCount(code, name, count, fixable))
    return sorted(rows, key=lambda row: -row.count)


def render_statistics(rows: Sequence[CodeCount]) -> str:
    """Ruff's columns: count right-aligned, tab, code padded, tab, fix marker, name.

    The marker column is there only when some code has an applicable fix, and reads `[*]` when
    every occurrence is fixable, `[-]` when some are, `[ ]` when none are.
    """
    if not rows:
        return ""
    count_width = len(str(max(row.count for row in rows)))
    code_width = max(len(row.code) for row in rows)
    show_marker = any(row.fixable_count for row in rows)
    lines = []
    for row in rows:
        marker = f"{row.marker} " if show_marker else ""
        lines.append(f"{row.count:>{count_width}}\t{row.code:<{code_width}}\t{marker}{row.name}")
    return "\n".join(lines) + "\n"


def render_statistics_json(rows: Sequence[CodeCount]) -> str:
    records = [
        {
            "code": row.code,
            "name": row.name,
            "count": row.count,
            "fixable": row.fixable_count == row.count,
            "fixable_count": row.fixable_count,
        }
        for row in rows
    ]
    return json.dumps(records, indent=2) + "\n"
