"""`full` (with a source excerpt, like ruff) and `concise` text output."""

from __future__ import annotations

from collections.abc import Sequence

from prefect_lint.diagnostics import Applicability, Diagnostic
from prefect_lint.engine.report import FileReport


def fix_applies(diagnostic: Diagnostic, unsafe_fixes: bool) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` when given) would apply this diagnostic's fix."""
    return diagnostic.fix_applicability == Applicability.SAFE or (
        unsafe_fixes and diagnostic.fix_applicability == Applicability.UNSAFE
    )


def fix_marker(diagnostic: Diagnostic, unsafe_fixes: bool) -> str:
    return " [*]" if fix_applies(diagnostic, unsafe_fixes) else ""


def headline(path: str, diagnostic: Diagnostic, unsafe_fixes: bool) -> str:
    start = diagnostic.start
    marker = fix_marker(diagnostic, unsafe_fixes)
    return f"{path}:{start.line}:{start.column + 1}: {diagnostic.code}{marker} {diagnostic.message}"


def excerpt(source: str, diagnostic: Diagnostic, lines: Sequence[str] | None = None) -> list[str]:
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
            out.append(f"{'':>{width}} | {' ' * start.column}{carets} {diagnostic.code}")
    out.append(f"{'':>{width}} |")
    return out


def render_text(reports: Sequence[FileReport], *, full: bool, unsafe_fixes: bool) -> str:
    out: list[str] = []
    for report in reports:
        lines = report.source.splitlines() if full and report.source is not None else None
        for diagnostic in report.diagnostics:
            out.append(headline(report.path, diagnostic, unsafe_fixes))
            if lines is not None and report.source is not None:
                out.extend(excerpt(report.source, diagnostic, lines))
                if diagnostic.fix_title:
                    out.append(f"  = help: {diagnostic.fix_title}")
                out.append("")
    return "\n".join(out) + ("\n" if out else "")


def summary(reports: Sequence[FileReport], *, unsafe_fixes: bool, fixing: bool) -> str:
    remaining = [d for r in reports for d in r.diagnostics]
    fixed = sum(sum(r.fixed.values()) for r in reports)
    if not remaining:
        if fixed:
            noun = "error" if fixed == 1 else "errors"
            return f"Found {fixed} {noun} ({fixed} fixed, 0 remaining).\n"
        return "All checks passed!\n"
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
    return "\n".join(lines) + "\n"


def _hidden(count: int) -> str:
    noun = "fix" if count == 1 else "fixes"
    return f"{count} hidden {noun} can be enabled with the `--unsafe-fixes` option"
