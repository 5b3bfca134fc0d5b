"""`sarif`: SARIF 2.1.0, the format GitHub code scanning (and most CI dashboards) ingest.

Unlike ruff's SARIF (ruff#19962) the results carry their fixes, as `artifactChanges` whose
`deletedRegion`s refer to the file as it was checked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from prefect_lint import __version__
from prefect_lint.diagnostics import (
    IO_ERROR,
    Diagnostic,
    FileError,
    Fix,
    Position,
    line_starts,
    offset_to_position,
)
from prefect_lint.engine.report import FileReport
from prefect_lint.rules import rule_meta

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/prefect-lint/prefect-lint"
# Relative URIs are relative to this base, which `originalUriBaseIds` maps to the directory the
# command ran in (the checkout root in CI, which is what code scanning resolves them against).
SRCROOT = "%SRCROOT%"
LEVEL = "error"  # every rule reports code that fails or misbehaves at runtime


def artifact_location(path: str, root: str) -> dict[str, Any]:
    if path == "-":
        return {"uri": "-"}
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        relative = None
    if relative is None or relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": quote(relative.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _directory_uri(directory: str) -> str:
    # A base URI must end with a slash, or resolving against it drops its last segment.
    uri = Path(directory).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def region(start: Position, end: Position) -> dict[str, int]:
    # SARIF columns are 1-based and the end column is exclusive, like ours plus one.
    return {
        "startLine": start.line,
        "startColumn": start.column + 1,
        "endLine": end.line,
        "endColumn": end.column + 1,
    }


def _fix(fix: Fix, location: dict[str, Any], starts: list[int]) -> dict[str, Any]:
    replacements = []
    for edit in sorted(fix.edits, key=lambda e: (e.start, e.end)):
        replacement: dict[str, Any] = {
            "deletedRegion": region(
                offset_to_position(starts, edit.start), offset_to_position(starts, edit.end)
            )
        }
        if edit.content:
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    return {
        "description": {"text": fix.title},
        "artifactChanges": [{"artifactLocation": location, "replacements": replacements}],
        "properties": {"applicability": fix.applicability.value},
    }


def _result(
    diagnostic: Diagnostic, rule_index: int, location: dict[str, Any], starts: list[int]
) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": location}
    message = diagnostic.message
    if diagnostic.cell is None:
        physical["region"] = region(diagnostic.start, diagnostic.end)
    else:
        # Lines of the notebook's JSON are not the code's lines: the cell goes in the message
        # and the properties, the location names the file only.
        start = diagnostic.start
        message = f"cell {diagnostic.cell}:{start.line}:{start.column + 1}: {message}"
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": LEVEL,
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
    }
    if diagnostic.cell is not None:
        result["properties"] = {
            "cell": diagnostic.cell,
            "region": region(diagnostic.start, diagnostic.end),
        }
    # A notebook's edits are inside a cell, not regions of the JSON file: not exported.
    if diagnostic.fix is not None and diagnostic.fix.edits and diagnostic.cell is None:
        result["fixes"] = [_fix(diagnostic.fix, location, starts)]
    return result


def rule_descriptor(code: str) -> dict[str, Any]:
    meta = rule_meta(code)
    if code == IO_ERROR:
        text = "a file could not be read or decoded, so it was not checked"
        return {
            "id": code,
            "name": "io-error",
            "shortDescription": {"text": text},
            "fullDescription": {"text": text},
            "defaultConfiguration": {"level": LEVEL},
        }
    if meta is None:
        return {"id": code}
    docs = meta.render_docs()
    sections = meta.sections()
    descriptor: dict[str, Any] = {
        "id": code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": sections.get("What it does", meta.summary)},
        "help": {"text": docs, "markdown": docs},
        "helpUri": meta.url,
        "defaultConfiguration": {"level": LEVEL},
    }
    if meta.fix is not None:
        descriptor["properties"] = {
            "fix": meta.fix.safety.value,
            "fixAvailability": meta.fix.availability.value,
        }
    return descriptor


def _notification(error: FileError, root: str) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": str(error)},
        "locations": [
            {"physicalLocation": {"artifactLocation": artifact_location(error.path, root)}}
        ],
    }


def sarif_log(
    reports: Sequence[FileReport], errors: Sequence[FileError] = (), root: str | None = None
) -> dict[str, Any]:
    root = os.path.abspath(root or os.getcwd())
    codes = sorted({d.code for report in reports for d in report.diagnostics})
    index = {code: position for position, code in enumerate(codes)}
    results: list[dict[str, Any]] = []
    for report in reports:
        location = artifact_location(report.path, root)
        starts = line_starts(report.source or "")
        results.extend(
            _result(diagnostic, index[diagnostic.code], location, starts)
            for diagnostic in report.diagnostics
        )
    invocation: dict[str, Any] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [_notification(e, root) for e in errors]
    run = {
        "tool": {
            "driver": {
                "name": "prefect-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(code) for code in codes],
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(root)}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(
    reports: Sequence[FileReport], errors: Sequence[FileError] = (), root: str | None = None
) -> str:
    return json.dumps(sarif_log(reports, errors, root), indent=2) + "\n"
