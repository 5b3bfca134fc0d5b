"""Reading the fixture tree: `# error: PFL101` markers and golden `.fixed.py` files."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_MARKER = re.compile(r"#\s*error:\s*(?P<codes>PFL\d{3}(?:\s*,\s*PFL\d{3})*)")


def fixture_cases() -> list[Path]:
    """Every fixture input (not the golden outputs), sorted."""
    return sorted(
        p for p in FIXTURES.rglob("*.py") if not p.name.endswith(".fixed.py") and p.is_file()
    )


def golden_path(case: Path) -> Path:
    return case.with_name(case.name[: -len(".py")] + ".fixed.py")


def expected_markers(text: str) -> Counter[tuple[int, str]]:
    expected: Counter[tuple[int, str]] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            for code in match.group("codes").split(","):
                expected[(number, code.strip())] += 1
    return expected


def case_id(case: Path) -> str:
    return str(case.relative_to(FIXTURES))
