"""`full` (with a source excerpt, like ruff) and `concise` text output."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from prefect_lint.diagnostics import Applicability, Diagnostic
from prefect_lint.engine.report import FileReport


@dataclass(frozen=True)
class Style:
    """ANSI styles for a terminal (ruff's choices: bold path, bold red code, cyan marker);
    the plain style writes no escape codes."""

    enabled: bool = False

    def _wrap(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._wrap(text, "1")

    def code(self, text: str) -> str:
        return self._wrap(text, "1;31")

    def marker(self, text: str) -> str:
        return self._wrap(text, "36")

    def success(self, text: str) -> str:
        return self._wrap(text, "1;32")


PLAIN = Style()


def color_wanted(stream: TextIO) -> bool:
    """Colour on a terminal only; `NO_COLOR` (any value) turns it off and `FORCE_COLOR`
    turns it on elsewhere, with NO_COLOR winning, as in Python's own tracebacks."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def fix_marker(diagnostic: Diagnostic, unsafe_fixes: bool) -> str:
    return " [*]" if diagnostic.fix_applies(unsafe_fixes) else ""


def location(diagnostic: Diagnostic) -> str:
    """`line:column`, or ruff's `cell N:line:column` inside a notebook."""
    start = diagnostic.start
    cell = f"cell {diagnostic.cell}:" if diagnostic.cell is not None else ""
    return f"{cell}{start.line}:{start.column + 1}"


def headline(path: str, diagnostic: Diagnostic, unsafe_fixes: bool, style: Style = PLAIN) -> str:
    marker = style.marker(fix_marker(diagnostic, unsafe_fixes))
    code = style.code(diagnostic.code)
    return f"{style.bold(path)}:{location(diagnostic)}: {code}{marker} {diagnostic.message}"


def excerpt(
    source: str,
    diagnostic: Diagnostic,
    style: Style = PLAIN,
    lines: Sequence[str] | None = None,
) -> list[str]:
    """The lines around a diagnostic; `lines` is `source.splitlines()` when the caller has it
    (split once per file, not once per diagnostic)."""
    if lines is None:
        lines = source.splitlines()
    start, end = diagnostic.start, diagnostic.end
    if not 1 <= start.line <= len(lines):
        return []
    first = max(1, start.line - 1)
    last = min(len(lines), start.line + 1)
    width = len(str(last))
    out = [f"{'':>{width}} |"]
    for number in range(first, last + 1):
        text = lines[number - 1].expandtabs(1)
        out.append(f"{number:>{width}} | {text}".rstrip())
        if number == start.line:
            stop = end.column if end.line == start.line else len(text)
            carets = "^" * max(1, stop - start.column)
            marks = style.code(f"{carets} {diagnostic.code}")
            out.append(f"{'':>{width}} | {' ' * start.column}{marks}")
    out.append(f"{'':>{width}} |")
    return out


def render_text(
    reports: Sequence[FileReport], *, full: bool, unsafe_fixes: bool, style: Style = PLAIN
) -> str:
    out: list[str] = []
    for report in reports:
        # Each source (the file, or a notebook cell) is split into lines once.
        split: dict[str, list[str]] = {}
        for diagnostic in report.diagnostics:
            out.append(headline(report.path, diagnostic, unsafe_fixes, style))
            source = report.source
            if diagnostic.cell is not None:
                source = (report.cell_sources or {}).get(diagnostic.cell)
            if full and source is not None:
                if source not in split:
                    split[source] = source.splitlines()
                out.extend(excerpt(source, diagnostic, style, split[source]))
                if diagnostic.fix_title:
                    out.append(f"  = {style.marker('help')}: {diagnostic.fix_title}")
                out.append("")
    return "\n".join(out) + ("\n" if out else "")


def summary(
    reports: Sequence[FileReport],
    *,
    unsafe_fixes: bool,
    fixing: bool,
    unchecked: int = 0,
    style: Style = PLAIN,
) -> str:
    """Ruff's closing lines; `unchecked` files (internal errors) are never "All checks passed!"."""
    remaining = [d for r in reports for d in r.diagnostics]
    fixed = sum(sum(r.fixed.values()) for r in reports)
    failed = ""
    if unchecked:
        noun = "file" if unchecked == 1 else "files"
        failed = f"{unchecked} {noun} could not be checked (internal error, see above).\n"
    if not remaining:
        if fixed:
            noun = "error" if fixed == 1 else "errors"
            return f"Found {fixed} {noun} ({fixed} fixed, 0 remaining).\n{failed}"
        return failed or style.success("All checks passed!") + "\n"
    total = len(remaining) + fixed
    noun = "error" if total == 1 else "errors"
    lines = [
        f"Found {total} {noun} ({fixed} fixed, {len(remaining)} remaining)."
        if fixing
        else f"Found {total} {noun}."
    ]
    safe = sum(d.fix_applicability == Applicability.SAFE for d in remaining)
    unsafe = sum(d.fix_applicability == Applicability.UNSAFE for d in remaining)
    fixable = safe + (unsafe if unsafe_fixes else 0)
    hidden = 0 if unsafe_fixes else unsafe
    if fixable and not fixing:
        option = "--fix --unsafe-fixes" if unsafe_fixes and unsafe else "--fix"
        line = f"[*] {fixable} fixable with the `{option}` option"
        lines.append(line + (f" ({_hidden(hidden)})." if hidden else "."))
    elif hidden:
        lines.append(f"No fixes available ({_hidden(hidden)}).")
    return "\n".join(lines) + "\n" + failed


def _hidden(count: int) -> str:
    noun = "fix" if count == 1 else "fixes"
    return f"{count} hidden {noun} can be enabled with the `--unsafe-fixes` option"
