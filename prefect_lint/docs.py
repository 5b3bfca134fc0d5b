"""Generated documentation: `docs/rules/PFLxxx.md` and the README rules table.

`python -m prefect_lint.docs` rewrites both; a meta-test fails when they are stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from prefect_lint.records import RuleMeta
from prefect_lint.rules import ALL_RULES

TABLE_START = "<!-- rules-table:start -->"
TABLE_END = "<!-- rules-table:end -->"


def fix_cell(meta: RuleMeta) -> str:
    """`safe, always`, `unsafe, sometimes` or `—`: how safe the fix is and how often offered."""
    if meta.fix is None:
        return "—"
    return f"{meta.fix.safety.value}, {meta.fix.availability.value}"


def rules_table() -> str:
    rows = [
        "| Code | Name | What happens at runtime | Fix |",
        "|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        meta = rule.meta
        link = f"[{meta.code}](docs/rules/{meta.code}.md)"
        rows.append(f"| {link} | `{meta.name}` | {meta.summary} | {fix_cell(meta)} |")
    return "\n".join(rows) + "\n"


def replace_table(readme: str) -> str:
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.S)
    return pattern.sub(lambda _: f"{TABLE_START}\n{rules_table()}{TABLE_END}", readme)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    docs = root / "docs" / "rules"
    docs.mkdir(parents=True, exist_ok=True)
    for rule in ALL_RULES:
        (docs / f"{rule.meta.code}.md").write_text(rule.meta.render_docs(), encoding="utf-8")
    readme = root / "README.md"
    readme.write_text(replace_table(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
