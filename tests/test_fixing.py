"""The fix engine through the real CLI: what it counts, how it writes, how fixed code looks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import run_cli

# Several diagnostics whose fixes overlap: the three unwaited futures of `pipeline` share one
# `wait([...])` fix (one diagnostic has no fix of its own, the others write the same edits),
# a PFL105 import fix touches the line the PFL102 fix adds an import to, and the PFL103 loop
# rewrite is unsafe.
COUNTED = {
    "a.py": """\
from prefect import flow, task, wait


@task
def load(n: int) -> int:
    return n


@flow
def pipeline() -> None:
    a = load.submit(1)
    b = load.submit(2)
    load.submit(3)
    print(a, b)


@flow
def other(xs: list[int]) -> None:
    for x in xs:
        load.submit(x).result()
""",
    "b.py": """\
from prefect import flow, task


@task
def load(n: int) -> int:
    return n


@flow
def first() -> None:
    load.submit(1)
    load.submit(2)


@flow
def second(xs: list[int]) -> list[int]:
    futures = load.map(xs)
    return [f + 1 for f in futures]
""",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).write_text(text)


def _found(output: str) -> int:
    match = re.search(r"^Found (\d+) errors?", output, re.M)
    assert match, output
    return int(match[1])


@pytest.mark.parametrize("unsafe", [False, True])
def test_check_fix_and_diff_count_the_same_diagnostics(tmp_path: Path, unsafe: bool) -> None:
    _write(tmp_path, COUNTED)
    flags = ["--unsafe-fixes"] if unsafe else []
    base = ["check", "--no-cache", "--output-format", "concise", *flags]
    check = run_cli(*base, ".", cwd=tmp_path)
    found = _found(check.stdout)
    assert found == len(re.findall(r"^\S+:\d+:\d+: PFL", check.stdout, re.M)) == 8

    diff = run_cli(*base, "--diff", ".", cwd=tmp_path)
    would = re.search(r"Would fix (\d+) errors?", diff.stderr)
    assert would, diff.stderr

    fixed_copy = tmp_path / "fixed"
    fixed_copy.mkdir()
    _write(fixed_copy, COUNTED)
    fix = run_cli(*base, "--fix", ".", cwd=fixed_copy)
    summary = re.search(r"^Found (\d+) errors? \((\d+) fixed, (\d+) remaining\)", fix.stdout, re.M)
    assert summary, fix.stdout
    total, fixed, remaining = map(int, summary.groups())
    # What remains is what a fresh check of the fixed tree reports.
    after = run_cli(*base, ".", cwd=fixed_copy)
    assert remaining == (_found(after.stdout) if "Found" in after.stdout else 0)
    # The same diagnostics, counted the same way by all three.
    assert total == found
    assert fixed == int(would[1]) == found - remaining
    assert fixed > 0


def test_fixed_counts_per_code_are_diagnostics(tmp_path: Path) -> None:
    _write(tmp_path, COUNTED)
    result = run_cli(
        "check", "--no-cache", "--fix", "--unsafe-fixes", "--show-fixes", ".", cwd=tmp_path
    )
    assert "Found 8 errors (8 fixed, 0 remaining)." in result.stdout, result.stdout
    # a.py: one PFL105, three PFL102 resolved by one shared `wait`, one PFL103.
    assert "- a.py:\n    3 \N{MULTIPLICATION SIGN} PFL102 (unwaited-future)\n" in result.stdout
