"""JSON output in ruff's field layout, so tools that read `ruff --output-format json` work."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from prefect_lint.diagnostics import Diagnostic, Fix, line_starts, offset_to_position
from prefect_lint.engine.report import FileReport
from prefect_lint.rule_codes import docs_url


def _location(line: int, column: int) -> dict[str, int]:
    return {"row": line, "column": column + 1}


def _fix(fix: Fix | None, starts: list[int]) -> dict[str, Any] | None:
    if fix is None:
        return None
    edits = []
    for edit in fix.edits:
        start = offset_to_position(starts, edit.start)
        end = offset_to_position(starts, edit.end)
        edits.append(
            {
                "content": edit.content,
                "location": _location(start.line, start.column),
                "end_location": _location(end.line, end.column),
            }
        )
    return {"applicability": fix.applicability.value, "message": fix.title, "edits": edits}


def diagnostic_record(path: str, diagnostic: Diagnostic, starts: list[int]) -> dict[str, Any]:
    return {
        "cell": diagnostic.cell,
        "code": diagnostic.code,
        "end_location": _location(diagnostic.end.line, diagnostic.end.column),
        "filename": os.path.abspath(path) if path != "-" else path,
        "fix": _fix(diagnostic.fix, starts),
        "location": _location(diagnostic.start.line, diagnostic.start.column),
        "message": diagnostic.message,
        "noqa_row": diagnostic.start.line,
        "url": docs_url(diagnostic.code),
    }


def iter_records(reports: Sequence[FileReport]) -> Iterator[dict[str, Any]]:
    """One record per diagnostic, in report order (shared by `json` and `json-lines`)."""
    for report in reports:
        starts = line_starts(report.source or "")
        cells = report.cell_sources or {}
        for diagnostic in report.diagnostics:
            if diagnostic.cell is not None:
                # A notebook: positions and edits are inside the cell.
                cell_starts = line_starts(cells.get(diagnostic.cell, ""))
                yield diagnostic_record(report.path, diagnostic, cell_starts)
            else:
                yield diagnostic_record(report.path, diagnostic, starts)


def render_json(reports: Sequence[FileReport]) -> str:
    return json.dumps(list(iter_records(reports)), indent=2, sort_keys=True) + "\n"
