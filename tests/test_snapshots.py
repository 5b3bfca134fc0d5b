"""The whole rendered CLI output per rule family, compared with `tests/snapshots/<family>.txt`.

The fixture markers pin each finding's position and the gist of its message; a snapshot pins
everything a user reads: the full message, the excerpt and caret span, the fix title, the
summary lines and the `--diff` of every fix. `pytest --update-goldens` rewrites the snapshots;
review the diff like any golden. Every fixture input (rule fixtures, project fixtures, the
notebook and the Markdown guide) is checked with only the family's codes selected, so each
finding shows up in exactly one snapshot. The syntax-error fixture (PFL000, reported whatever
is selected) is left out: it belongs to no family and would repeat in every snapshot.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from prefect_lint.rules import VISITOR_RULES
from tests.fixture_files import FIXTURES, fixture_cases
from tests.helpers import ROOT, run_cli

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
# The family is the package under prefect_lint/rules/ the rule lives in.
FAMILIES: dict[str, list[str]] = {}
for _rule in VISITOR_RULES:
    FAMILIES.setdefault(_rule.__module__.split(".")[2], []).append(_rule.meta.code)

# Paths relative to the checkout, so the snapshots read the same on every machine.
INPUTS = [
    *(str(c.relative_to(ROOT)) for c in fixture_cases() if c.parent.name != "PFL000"),
    str((FIXTURES / "notebook" / "etl.ipynb").relative_to(ROOT)),
    str((FIXTURES / "markdown" / "guide.md").relative_to(ROOT)),
]


def _options(family: str) -> list[str]:
    return [
        "check",
        "--no-cache",
        "--jobs",
        "1",
        "--exit-zero",
        "--preview",
        "--unsafe-fixes",
        "--extend-include",
        "*.md",
        "--select",
        ",".join(FAMILIES[family]),
    ]


def _run(options: list[str]) -> subprocess.CompletedProcess[str]:
    done = run_cli(*options, *INPUTS, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done


def render(family: str) -> str:
    """The snapshot text: the `full` report, then the `--diff` of every fix."""
    options = _options(family)
    full = _run([*options, "--output-format", "full"])
    assert not full.stderr, full.stderr
    diff = _run([*options, "--diff"])
    return (
        f"$ prefect-lint {shlex.join(options)} --output-format full <fixtures>\n"
        f"{full.stdout}\n"
        f"$ prefect-lint {shlex.join(options)} --diff <fixtures>\n"
        f"{diff.stdout}"
        f"{diff.stderr}"
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_rendered_output_matches_snapshot(family: str, request: pytest.FixtureRequest) -> None:
    text = render(family)
    snapshot = SNAPSHOTS / f"{family}.txt"
    if request.config.getoption("--update-goldens"):
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"missing snapshot {snapshot.name}; run pytest --update-goldens"
    assert text == snapshot.read_text(encoding="utf-8")


def test_every_snapshot_belongs_to_a_family() -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.txt")) == sorted(FAMILIES)
