"""Jupyter notebooks through the CLI: code cells joined as one module, magics skipped, cell
positions in every output format, and `--fix` / `--diff` that touch only the cells' code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prefect_lint.engine.notebook import _split, read_notebook
from tests.fixture_files import FIXTURES
from tests.helpers import run_cli
from tests.test_output_formats import _assert_valid_sarif

NOTEBOOK = FIXTURES / "notebook" / "etl.ipynb"
GOLDEN = FIXTURES / "notebook" / "etl.fixed.ipynb"
PFL105 = "PFL105 [*] `from prefect import wait` raises ImportError"
PFL102 = "PFL102 future of `extract.submit()` never resolved"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the project root
    shutil.copy(NOTEBOOK, tmp_path / "etl.ipynb")
    return tmp_path


def test_check_reports_cell_line_and_column(project: Path) -> None:
    """Cell 2 imports `wait` wrongly; cell 5's flow submits a task defined in cell 3 (one
    module); `%pip`, `!ls`, `extract?`, `files = !ls`, `%%time` and a `%%bash` cell are skipped."""
    result = run_cli("check", "--output-format", "concise", ".", cwd=project)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"etl.ipynb:cell 2:2:33: {PFL105}")
    assert lines[1].startswith(f"etl.ipynb:cell 5:4:5: {PFL102}")
    assert lines[2] == "Found 2 errors."
    full = run_cli("check", "--output-format", "full", "etl.ipynb", cwd=project).stdout
    # The excerpt is the cell's code, with its magics, not the JSON.
    assert "1 | %pip install prefect\n2 | from prefect import flow, task, wait\n" in full
    assert "4 |     extract.submit(1)\n  |     ^^^^^^^^^^^^^^^^^ PFL102" in full


def test_json_github_and_sarif_carry_the_cell(project: Path) -> None:
    records = json.loads(run_cli("check", "--output-format", "json", ".", cwd=project).stdout)
    assert [(r["cell"], r["location"], r["code"]) for r in records] == [
        (2, {"row": 2, "column": 33}, "PFL105"),
        (5, {"row": 4, "column": 5}, "PFL102"),
    ]
    # The fix's edits are inside the cell: applied to cell 2's source they give what `--fix`
    # writes there. PFL102's fix would rewrite across the masked `files = !ls`: none shown.
    cell = "".join(json.loads(NOTEBOOK.read_text())["cells"][1]["source"])
    lines = cell.splitlines(keepends=True)

    def offset(location: dict[str, int]) -> int:
        return sum(map(len, lines[: location["row"] - 1])) + location["column"] - 1

    edits = records[0]["fix"]["edits"]
    for edit in sorted(edits, key=lambda e: offset(e["location"]), reverse=True):
        start, end = offset(edit["location"]), offset(edit["end_location"])
        cell = cell[:start] + edit["content"] + cell[end:]
    assert cell == "".join(json.loads(GOLDEN.read_text())["cells"][1]["source"])
    assert records[1]["fix"] is None
    github = run_cli("check", "--output-format", "github", ".", cwd=project).stdout.splitlines()
    assert github[1].startswith(
        f"::error title=prefect-lint (PFL102),file={project / 'etl.ipynb'}::cell 5:4:5: PFL102 "
    )
    log = json.loads(run_cli("check", "--output-format", "sarif", ".", cwd=project).stdout)
    _assert_valid_sarif(log)
    result = log["runs"][0]["results"][1]
    assert result["message"]["text"].startswith("cell 5:4:5: future of `extract.submit()`")
    assert result["properties"]["cell"] == 5
    assert "region" not in result["locations"][0]["physicalLocation"]


def test_diff_shows_only_source_lines_and_writes_nothing(project: Path) -> None:
    before = (project / "etl.ipynb").read_bytes()
    result = run_cli("check", "--diff", "etl.ipynb", cwd=project)
    assert result.returncode == 1
    assert (project / "etl.ipynb").read_bytes() == before
    changed = [
        line
        for line in result.stdout.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        '-    "from prefect import flow, task, wait\\n",',
        '+    "from prefect import flow, task\\n",',
        '+    "from prefect.futures import wait\\n",',
        '-    "    extract.submit(1)\\n",',
        '+    "    extract_future = extract.submit(1)\\n",',
        '+    "    wait([extract_future])\\n",',
    ]
    assert "Would fix 2 errors." in result.stderr


def test_fix_edits_cells_and_keeps_every_other_byte(project: Path) -> None:
    result = run_cli("check", "--fix", "etl.ipynb", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.stdout
    fixed = (project / "etl.ipynb").read_text(encoding="utf-8")
    assert fixed == GOLDEN.read_text(encoding="utf-8")
    before, after = json.loads(NOTEBOOK.read_text()), json.loads(fixed)
    # Outputs, metadata, other cells: equal; only the two cells' sources changed.
    for number, (old, new) in enumerate(zip(before["cells"], after["cells"], strict=True)):
        assert {k: v for k, v in old.items() if k != "source"} == {
            k: v for k, v in new.items() if k != "source"
        }
        assert (old["source"] != new["source"]) == (number in (1, 4))
    assert before["metadata"] == after["metadata"]
    assert after["cells"][1]["source"][0] == "%pip install prefect\n"  # the magic is kept
    again = run_cli("check", "etl.ipynb", cwd=project)
    assert again.returncode == 0 and again.stdout == "All checks passed!\n"


def test_cached_run_shows_the_same_excerpts(project: Path) -> None:
    first = run_cli("check", "etl.ipynb", cwd=project)
    second = run_cli("check", "-v", "etl.ipynb", cwd=project)
    assert "1 from the cache" in second.stderr
    assert second.stdout == first.stdout


def test_broken_and_foreign_notebooks(project: Path) -> None:
    (project / "broken.ipynb").write_text('{"cells": [')
    r_kernel = json.loads(NOTEBOOK.read_text())
    r_kernel["metadata"] = {"kernelspec": {"language": "R", "name": "ir"}}
    (project / "r.ipynb").write_text(json.dumps(r_kernel))
    unparsable = json.loads(NOTEBOOK.read_text())
    unparsable["cells"][1]["source"] = ["from prefect import wait\n", "def broken(:\n"]
    (project / "etl.ipynb").write_text(json.dumps(unparsable))
    result = run_cli("check", "--output-format", "concise", ".", cwd=project)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("broken.ipynb:1:1: E902 cannot read the notebook: not valid JSON")
    # A cell that does not parse even without its magics is left out, never a PFL000; the
    # R notebook is not Python.
    assert "PFL000" not in result.stdout and "r.ipynb" not in result.stdout


def test_a_fix_that_would_cross_cells_is_refused() -> None:
    notebook = read_notebook(NOTEBOOK.read_text())
    assert notebook is not None
    module = notebook.module
    assert _split(module, notebook) == {}
    # A fix that indents a cell marker into a block (as wrapping statements would).
    moved = module.replace("# prefect-lint: cell 5\n", "if True:\n    # prefect-lint: cell 5\n")
    assert _split(moved, notebook) is None
    # A fix that lost a magic.
    assert _split(module.replace("pass  # prefect-lint: magic 0", "pass"), notebook) is None
