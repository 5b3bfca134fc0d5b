"""`github`: GitHub Actions workflow commands, which the runner turns into annotations.

One `::error ...::` line per diagnostic. The runner splits on `::`, `,` and `=`, so values are
escaped the way the Actions toolkit escapes them: `%`, CR and LF everywhere, and also `:` and `,`
inside properties.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from prefect_lint.diagnostics import Diagnostic
from prefect_lint.engine.report import FileReport

_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def escape_data(text: str) -> str:
    # `%` first, so the escapes added by the later replacements are not escaped again.
    for raw, escaped in _DATA_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def escape_property(text: str) -> str:
    for raw, escaped in _PROPERTY_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _file(path: str) -> str:
    # Absolute, like ruff: the runner maps paths under the workspace to the repository, so
    # annotations land on the right file even when the job runs in a subdirectory.
    return os.path.abspath(path) if path != "-" else path


def annotation(path: str, diagnostic: Diagnostic) -> str:
    message = f"{diagnostic.code} {diagnostic.message}"
    if diagnostic.cell is not None:
        # A line of the notebook's JSON would be the wrong place: a file annotation that
        # names the cell, line and column.
        start = diagnostic.start
        where = f"cell {diagnostic.cell}:{start.line}:{start.column + 1}"
        properties = {"title": f"prefect-lint ({diagnostic.code})", "file": _file(path)}
        joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
        return f"::error {joined}::{escape_data(f'{where}: {message}')}"
    properties = {
        "title": f"prefect-lint ({diagnostic.code})",
        "file": _file(path),
        "line": str(diagnostic.start.line),
        "col": str(diagnostic.start.column + 1),
        "endLine": str(diagnostic.end.line),
        "endColumn": str(diagnostic.end.column + 1),
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::error {joined}::{escape_data(message)}"


def render_github(reports: Sequence[FileReport]) -> str:
    return "".join(
        annotation(report.path, diagnostic) + "\n"
        for report in reports
        for diagnostic in report.diagnostics
    )
