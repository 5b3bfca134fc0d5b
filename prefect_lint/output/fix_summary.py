"""`--show-fixes`: which fixes `--fix` applied, per file and code (ruff's layout)."""

from __future__ import annotations

from collections.abc import Sequence

from prefect_lint.engine.report import FileReport
from prefect_lint.rules import rule_meta

TIMES = "\N{MULTIPLICATION SIGN}"  # ruff's separator between a count and a code


def render_fix_summary(reports: Sequence[FileReport]) -> str:
    """`Fixed N errors:`, then `- path:` and `    COUNT TIMES CODE (name)` lines; "" if none."""
    fixed = sorted(
        ((report.path, report.fixed) for report in reports if sum(report.fixed.values())),
        key=lambda item: item[0],
    )
    if not fixed:
        return ""
    total = sum(sum(table.values()) for _, table in fixed)
    width = len(str(max(count for _, table in fixed for count in table.values())))
    lines = [f"Fixed {total} error{'' if total == 1 else 's'}:"]
    for path, table in fixed:
        lines.append(f"- {path}:")
        # Most frequent first; ties in code order.
        for code, count in sorted(table.items(), key=lambda item: (-item[1], item[0])):
            if not count:
                continue
            meta = rule_meta(code)
            name = f" ({meta.name})" if meta is not None else ""
            lines.append(f"    {count:>{width}} {TIMES} {code}{name}")
    return "\n".join(lines) + "\n"
