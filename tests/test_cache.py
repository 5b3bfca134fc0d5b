"""The result cache through the real CLI: hits, every kind of invalidation, robustness."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

TASKS = """\
from prefect import task


@task
def extract(n: int) -> int:
    return n
"""

PLAIN_TASKS = """\
def extract(n: int) -> int:
    return n
"""

FLOWS = """\
from prefect import flow

from tasks import extract


@flow
def pipeline() -> None:
    extract.submit(1)
"""

WAIT_IMPORT = """\
from prefect import flow, task, wait


@flow
def parent() -> None:
    wait([])
"""

CLEAN = """\
from prefect import flow


@flow
def parent() -> None:
    pass
"""

_VERBOSE = re.compile(
    r"prefect-lint: (?P<files>\d+) files, (?P<hits>\d+) from the cache, "
    r"(?P<analysed>\d+) analysed in [\d.]+ s \(cache: (?P<where>.*)\)"
)


def counts(result: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """(files from the cache, files analysed) from `--verbose`."""
    match = _VERBOSE.search(result.stderr)
    assert match is not None, result.stderr
    return int(match["hits"]), int(match["analysed"])


def check(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("check", "--verbose", "--output-format", "concise", *args, cwd=project)
    assert result.returncode in (0, 1), result.stderr
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prefect-lint]\n")
    (tmp_path / "tasks.py").write_text(TASKS)
    (tmp_path / "flows.py").write_text(FLOWS)
    (tmp_path / "imports.py").write_text(WAIT_IMPORT)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / "plain.py").write_text("import os\n")
    return tmp_path


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("v*/*/*.json") if not p.name.startswith(".prefect-lint-"))


def test_warm_run_answers_from_the_cache_with_the_same_output(project: Path) -> None:
    cold = check(project, ".")
    assert counts(cold) == (0, 5)
    warm = check(project, ".")
    assert counts(warm) == (5, 0)
    assert warm.stdout == cold.stdout
    assert warm.returncode == cold.returncode == 1
    assert "flows.py:8:5: PFL102" in warm.stdout
    assert "imports.py:1:33: PFL105" in warm.stdout
    full_cold = run_cli("check", "--no-cache", ".", cwd=project)
    full_warm = run_cli("check", ".", cwd=project)
    assert full_warm.stdout == full_cold.stdout  # source excerpts come back too

    cache = project / ".prefect_lint_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (
        (cache / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert len(entries(cache)) == 5


def test_warm_run_does_not_import_libcst_or_the_rules(project: Path) -> None:
    probe = (
        "import sys\n"
        "from prefect_lint.frontends.cli import main\n"
        "main(['check', '--exit-zero', '.'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'libcst', 'prefect'})\n"
        "rules = 'prefect_lint.rules' in sys.modules\n"
        "print('LOADED', loaded, rules, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def loaded() -> str:
        result = subprocess.run(
            [sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, env=env
        )
        return result.stderr.strip().splitlines()[-1]

    assert loaded() == "LOADED ['libcst'] True"  # the cold run analyses
    assert loaded() == "LOADED [] False"  # the warm one only reads the cache


def test_a_changed_file_is_analysed_again(project: Path) -> None:
    check(project, ".")
    (project / "clean.py").write_text(WAIT_IMPORT)
    result = check(project, ".")
    assert counts(result) == (4, 1)
    assert "clean.py:1:33: PFL105" in result.stdout


def test_same_bytes_different_mtime_is_still_a_hit(project: Path) -> None:
    check(project, ".")
    os.utime(project / "flows.py", (1, 1))
    assert counts(check(project, ".")) == (5, 0)


def test_changing_a_task_into_a_function_invalidates_its_importers(project: Path) -> None:
    first = check(project, ".")
    assert "flows.py:8:5: PFL102" in first.stdout
    (project / "tasks.py").write_text(PLAIN_TASKS)
    second = check(project, ".")
    # tasks.py itself and flows.py (which imports it) are analysed; the rest are not.
    assert counts(second) == (3, 2)
    assert "flows.py" not in second.stdout
    (project / "tasks.py").write_text(TASKS)
    third = check(project, ".")
    assert "flows.py:8:5: PFL102" in third.stdout


def test_a_module_that_appears_later_changes_the_result(project: Path) -> None:
    (project / "flows.py").write_text(FLOWS.replace("from tasks import", "from helpers import"))
    first = check(project, "flows.py")
    assert "PFL102" not in first.stdout  # `extract` is unknown: silence
    assert counts(check(project, "flows.py")) == (1, 0)
    (project / "helpers.py").write_text(TASKS)
    second = check(project, "flows.py")
    assert counts(second) == (0, 1)
    assert "flows.py:8:5: PFL102" in second.stdout


def test_a_module_in_a_new_package_changes_the_result(project: Path) -> None:
    (project / "flows.py").write_text(FLOWS.replace("from tasks import", "from steps.io import"))
    assert "PFL102" not in check(project, "flows.py").stdout
    (project / "steps").mkdir()
    (project / "steps" / "__init__.py").write_text("")
    (project / "steps" / "io.py").write_text(TASKS)
    assert "flows.py:8:5: PFL102" in check(project, "flows.py").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--ignore", "PFL105"),
        ("--select", "PFL102"),
        ("--target-version", "2.19"),
    ],
)
def test_other_settings_do_not_reuse_entries(project: Path, args: tuple[str, ...]) -> None:
    check(project, ".")
    changed = check(project, *args, ".")
    assert counts(changed) == (0, 5)
    assert counts(check(project, *args, ".")) == (5, 0)
    assert counts(check(project, ".")) == (5, 0)  # the first settings' entries are still there


def test_per_file_ignores_only_invalidate_the_files_they_affect(project: Path) -> None:
    check(project, ".")
    (project / "pyproject.toml").write_text(
        '[tool.prefect-lint]\nper-file-ignores = { "imports.py" = ["PFL105"] }\n'
    )
    result = check(project, ".")
    assert counts(result) == (4, 1)
    assert "PFL105" not in result.stdout


def test_a_new_prefect_pin_invalidates(project: Path) -> None:
    check(project, ".")
    (project / "requirements.txt").write_text("prefect==2.19.1\n")
    result = check(project, ".")
    assert counts(result) == (0, 5)
    assert "PFL102" not in result.stdout  # Prefect 2 target


def test_no_cache_neither_reads_nor_writes(project: Path) -> None:
    result = check(project, "--no-cache", ".")
    assert counts(result) == (0, 5)
    assert "(cache: disabled)" in result.stderr
    assert not (project / ".prefect_lint_cache").exists()
    check(project, ".")
    assert counts(check(project, "--no-cache", ".")) == (0, 5)


def test_cache_dir_option_and_setting(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    check(project, "--cache-dir", str(elsewhere), ".")
    assert not (project / ".prefect_lint_cache").exists()
    assert len(entries(elsewhere)) == 5
    assert counts(check(project, "--cache-dir", str(elsewhere), ".")) == (5, 0)

    (project / "pyproject.toml").write_text('[tool.prefect-lint]\ncache-dir = "build/lint"\n')
    (project / "sub").mkdir()
    result = run_cli("check", "--verbose", "--exit-zero", "..", cwd=project / "sub")
    assert f"(cache: {project / 'build' / 'lint'})" in result.stderr
    shown = run_cli("check", "--show-settings", cwd=project / "sub")
    assert f"cache dir:        {project / 'build' / 'lint'}" in shown.stdout
    assert len(entries(project / "build" / "lint")) == 5


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{", b"\x00\xff\xfe", b"[]", b'{"path": 1}', b"null", b"[" * 100_000],
    ids=["empty", "truncated", "binary", "list", "wrong-types", "null", "deeply-nested"],
)
def test_corrupt_entries_are_ignored_and_replaced(project: Path, garbage: bytes) -> None:
    cold = check(project, ".")
    found = entries(project / ".prefect_lint_cache")
    assert found
    for entry in found:
        entry.write_bytes(garbage)
    result = check(project, ".")
    assert counts(result) == (0, 5)
    assert result.stdout == cold.stdout
    assert counts(check(project, ".")) == (5, 0)


def test_an_entry_with_a_wrong_digest_is_a_miss(project: Path) -> None:
    check(project, "flows.py")
    [entry] = entries(project / ".prefect_lint_cache")
    data = json.loads(entry.read_text())
    data["digest"] = "0" * 32
    entry.write_text(json.dumps(data))
    assert counts(check(project, "flows.py")) == (0, 1)


def test_json_output_gets_fix_edits_even_after_a_text_run(project: Path) -> None:
    expected = run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=project)
    check(project, ".")
    first = run_cli("check", "--verbose", "--output-format", "json", ".", cwd=project)
    assert json.loads(first.stdout) == json.loads(expected.stdout)
    second = run_cli("check", "--verbose", "--output-format", "json", ".", cwd=project)
    assert counts(second) == (5, 0)
    assert json.loads(second.stdout) == json.loads(expected.stdout)


def test_fix_skips_files_known_to_be_clean(project: Path) -> None:
    check(project, ".")
    result = run_cli("check", "--verbose", "--fix", ".", cwd=project)
    # Only the files with fixable diagnostics are analysed (and fixed).
    assert counts(result) == (3, 2)
    assert "from prefect.futures import wait" in (project / "imports.py").read_text()
    assert "wait(" in (project / "flows.py").read_text()
    after = check(project, ".")
    assert after.stdout == "All checks passed!\n"


def test_fix_does_not_store_its_results(project: Path) -> None:
    run_cli("check", "--fix", ".", cwd=project)
    assert entries(project / ".prefect_lint_cache") == []


def test_parallel_runs_share_the_cache_safely(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.prefect-lint]\n")
    (tmp_path / "tasks.py").write_text(TASKS)
    for number in range(40):
        source = FLOWS if number % 2 else WAIT_IMPORT
        (tmp_path / f"module_{number:02}.py").write_text(source)
    expected = run_cli("check", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    command = [sys.executable, "-m", "prefect_lint", "check", "--jobs", "2", "--verbose"]
    command += ["--output-format", "concise", "."]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for process in runs:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 1, stderr
        assert stdout.decode() == expected.stdout
    warm = check(tmp_path, "--jobs", "2", ".")
    assert counts(warm) == (41, 0)
    assert warm.stdout == expected.stdout
    leftovers = list((tmp_path / ".prefect_lint_cache").rglob(".prefect-lint-*"))
    assert leftovers == []


def test_markdown_documents_are_cached(project: Path) -> None:
    (project / "guide.md").write_text("```python\n" + WAIT_IMPORT + "```\n")
    first = check(project, "--extend-include", "*.md", "guide.md")
    assert counts(first) == (0, 1)
    second = check(project, "--extend-include", "*.md", "guide.md")
    assert counts(second) == (1, 0)
    assert second.stdout == first.stdout
    assert "guide.md:2:33: PFL105" in second.stdout


def test_a_module_reused_from_the_index_keeps_its_dependencies(tmp_path: Path) -> None:
    # a.py is checked first and makes the index parse b.py, which resolves `extract` through
    # c.py to d.py; checking b.py then reuses that parse (and its answers): its entry must
    # still depend on d.py.
    (tmp_path / "pyproject.toml").write_text("[tool.prefect-lint]\n")
    (tmp_path / "a.py").write_text("from b import run\n\nprint(run, 'prefect')\n")
    (tmp_path / "b.py").write_text(
        "from prefect import flow\n\nfrom c import extract\n\n\n"
        "@flow\ndef run() -> None:\n    extract.submit(1)\n"
    )
    (tmp_path / "c.py").write_text("from d import extract\n")
    (tmp_path / "d.py").write_text(TASKS)
    first = check(tmp_path, "--jobs", "1", ".")
    assert "b.py:8:5: PFL102" in first.stdout
    (tmp_path / "d.py").write_text(PLAIN_TASKS)
    second = check(tmp_path, "--jobs", "1", ".")
    assert "PFL102" not in second.stdout


def test_an_unusable_cache_dir_does_not_stop_the_run(project: Path) -> None:
    blocker = project / "not-a-directory"
    blocker.write_text("")
    expected = run_cli("check", "--no-cache", "--output-format", "concise", ".", cwd=project)
    for _ in range(2):
        result = check(project, "--cache-dir", str(blocker), ".")
        assert result.stdout == expected.stdout
        assert counts(result) == (0, 5)
        assert "5 cache entries could not be written" in result.stderr
