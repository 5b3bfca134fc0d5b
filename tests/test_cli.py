"""The `prefect-lint` command through a subprocess: output, fixes, exit codes, config."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.helpers import run_cli

BAD = """\
from prefect import flow, task, wait


@task
def double(n: int) -> int:
    return n * 2


@flow
def child(n: int) -> int:
    return n


@flow
def parent() -> None:
    futures = [double.submit(n) for n in range(3)]
    wait(futures)
    child.submit(1).result()
"""

CLEAN = """\
from prefect import flow
from prefect.futures import wait


@flow
def parent() -> None:
    wait([])
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flows.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / "unrelated.py").write_text("import os\nprint(os.sep)\n")
    return tmp_path


def test_check_reports_positions_and_messages(project: Path) -> None:
    result = run_cli("check", "--output-format", "concise", ".", cwd=project)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "flows.py:1:33: PFL105 [*] `from prefect import wait` raises ImportError: "
        "cannot import name 'wait' from 'prefect'; import it from `prefect.futures`"
    )
    assert lines[1].startswith(
        "flows.py:18:5: PFL101 `child.submit()` raises AttributeError: "
        "'Flow' object has no attribute 'submit'"
    )
    assert "Found 2 errors." in result.stdout
    assert "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled" in result.stdout


def test_full_output_shows_source_excerpt(project: Path) -> None:
    result = run_cli("check", "flows.py", cwd=project)
    assert "18 |     child.submit(1).result()" in result.stdout
    assert "   |     ^^^^^^^^^^^^ PFL101" in result.stdout
    assert "= help: Run the flow through a task" in result.stdout


def test_clean_tree_exits_zero(project: Path) -> None:
    result = run_cli("check", "clean.py", "unrelated.py", cwd=project)
    assert result.returncode == 0
    assert result.stdout == "All checks passed!\n"


def test_fix_applies_only_safe_fixes_and_keeps_file_mode(project: Path) -> None:
    target = project / "flows.py"
    target.chmod(0o640)
    result = run_cli("check", "--fix", "flows.py", cwd=project)
    assert result.returncode == 1  # the unsafe PFL101 fix was not applied
    text = target.read_text()
    assert "from prefect import flow, task\n" in text
    assert "from prefect.futures import wait\n" in text
    assert "child.submit(1)" in text
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "Found 2 errors (1 fixed, 1 remaining)." in result.stdout


def test_unsafe_fixes_fix_everything(project: Path) -> None:
    result = run_cli("check", "--fix", "--unsafe-fixes", "flows.py", cwd=project)
    assert result.returncode == 0, result.stdout
    text = (project / "flows.py").read_text()
    assert "task(child).submit(1).result()" in text
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.stdout


def test_fix_leaves_unchanged_files_untouched(project: Path) -> None:
    clean = project / "clean.py"
    os.utime(clean, (1_000_000, 1_000_000))
    run_cli("check", "--fix", ".", cwd=project)
    assert clean.stat().st_mtime == 1_000_000


def test_diff_writes_nothing(project: Path) -> None:
    before = (project / "flows.py").read_text()
    result = run_cli("check", "--diff", "--unsafe-fixes", ".", cwd=project)
    assert result.returncode == 1
    assert "-from prefect import flow, task, wait\n" in result.stdout
    assert "+    task(child).submit(1).result()\n" in result.stdout
    assert "Would fix 2 errors." in result.stderr
    assert (project / "flows.py").read_text() == before


def test_json_output_uses_ruff_fields(project: Path) -> None:
    result = run_cli("check", "--output-format", "json", "flows.py", cwd=project)
    records = json.loads(result.stdout)
    first = records[0]
    assert first["code"] == "PFL105"
    assert first["location"] == {"row": 1, "column": 33}
    assert first["end_location"] == {"row": 1, "column": 37}
    assert first["filename"] == str(project / "flows.py")
    assert first["noqa_row"] == 1
    assert first["url"].endswith("/PFL105.md")
    assert first["fix"]["applicability"] == "safe"
    # Applying the edits as an editor would (1-based rows and columns) gives the fixed import.
    lines = BAD.splitlines(keepends=True)

    def offset(location: dict[str, int]) -> int:
        return sum(len(line) for line in lines[: location["row"] - 1]) + location["column"] - 1

    text = BAD
    for edit in sorted(first["fix"]["edits"], key=lambda e: offset(e["location"]), reverse=True):
        text = (
            text[: offset(edit["location"])]
            + edit["content"]
            + text[offset(edit["end_location"]) :]
        )
    assert text.startswith("from prefect import flow, task\nfrom prefect.futures import wait\n")
    assert records[1]["code"] == "PFL101"
    assert records[1]["fix"]["applicability"] == "unsafe"


def test_select_and_ignore(project: Path) -> None:
    only_101 = run_cli(
        "check", "--select", "PFL101", "--output-format", "concise", ".", cwd=project
    )
    assert "PFL105" not in only_101.stdout and "PFL101" in only_101.stdout
    ignored = run_cli("check", "--ignore", "PFL1", ".", cwd=project)
    assert ignored.returncode == 0
    unknown = run_cli("check", "--select", "PFL999", ".", cwd=project)
    assert unknown.returncode == 2
    assert "unknown rule selector 'PFL999'" in unknown.stderr


def test_exit_zero(project: Path) -> None:
    assert run_cli("check", "--exit-zero", ".", cwd=project).returncode == 0


def test_noqa_suppresses_and_is_never_fixed(tmp_path: Path) -> None:
    source = (
        "from prefect import flow, wait  # noqa: PFL105\n"
        "\n\n@flow\ndef f() -> None:\n    wait([])\n"
    )
    (tmp_path / "f.py").write_text(source)
    result = run_cli("check", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "f.py").read_text() == source


def test_config_in_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.prefect-lint]\nignore = ["PFL101"]\nper-file-ignores = {"clean.py" = ["PFL"]}\n'
    )
    result = run_cli("check", "--output-format", "concise", ".", cwd=project)
    assert "PFL101" not in result.stdout
    assert "PFL105" in result.stdout


def test_exclude_and_gitignore(project: Path) -> None:
    (project / "generated").mkdir()
    (project / "generated" / "bad.py").write_text(BAD)
    (project / "vendored").mkdir()
    (project / "vendored" / "bad.py").write_text(BAD)
    (project / ".gitignore").write_text("generated/\n")
    (project / "pyproject.toml").write_text('[tool.prefect-lint]\nextend-exclude = ["vendored"]\n')
    result = run_cli("check", "--output-format", "concise", ".", cwd=project)
    assert "generated" not in result.stdout and "vendored" not in result.stdout
    assert "flows.py" in result.stdout
    # A file named on the command line is always checked.
    explicit = run_cli("check", "--output-format", "concise", "generated/bad.py", cwd=project)
    assert "generated/bad.py:1:33: PFL105" in explicit.stdout


def test_force_exclude_applies_exclude_to_named_files(project: Path) -> None:
    (project / "vendored" / "deep").mkdir(parents=True)
    (project / "vendored" / "deep" / "bad.py").write_text(BAD)
    (project / "legacy_bad.py").write_text(BAD)
    (project / "pyproject.toml").write_text(
        '[tool.prefect-lint]\nextend-exclude = ["vendored", "legacy_*.py"]\n'
    )
    named = ["vendored/deep/bad.py", "legacy_bad.py", "flows.py"]
    plain = run_cli("check", "--output-format", "concise", *named, cwd=project)
    assert "vendored/deep/bad.py" in plain.stdout and "legacy_bad.py" in plain.stdout
    forced = run_cli("check", "--force-exclude", "--output-format", "concise", *named, cwd=project)
    assert "vendored" not in forced.stdout and "legacy_bad.py" not in forced.stdout
    assert "flows.py" in forced.stdout
    (project / "pyproject.toml").write_text(
        '[tool.prefect-lint]\nextend-exclude = ["vendored"]\nforce-exclude = true\n'
    )
    configured = run_cli("check", "--output-format", "concise", *named, cwd=project)
    assert "vendored" not in configured.stdout and "legacy_bad.py" in configured.stdout


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[tool.prefect-lint]\nselct = []\n", "unknown key `selct`"),
        ('[tool.prefect-lint]\nselect = "PFL101"\n', "`select` must be a list of strings"),
        (
            '[tool.prefect-lint]\ntarget-version = "banana"\n',
            "`target-version`: 'banana' is not a Prefect version; use one such as \"3.4\"",
        ),
        ("[tool.prefect-lint\n", "cannot parse"),
        (
            '[tool.prefect-lint]\nextend-task-decorators = ["tracked task"]\n',
            "`extend-task-decorators` entries must be dotted names",
        ),
        ('[tool.prefect-lint]\nextend-flow-decorators = "a.b"\n', "must be a list of strings"),
    ],
)
def test_broken_config_is_a_clear_error(project: Path, config: str, message: str) -> None:
    (project / "pyproject.toml").write_text(config)
    result = run_cli("check", ".", cwd=project)
    assert result.returncode == 2
    assert message in result.stderr
    assert str(project / "pyproject.toml") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("py311", "'py311' is a Python version; the target is the Prefect version"),
        ("4.0", "'4.0' is not a Prefect 2 or 3 release; use one such as \"3.4\""),
        ("3.x", "'3.x' is not a Prefect version; use one such as \"3.4\""),
    ],
)
def test_target_version_is_validated_once_for_cli_and_config(
    project: Path, value: str, message: str
) -> None:
    """The same check and message on the command line and in the configuration; neither
    checks a file (no per-file internal error, no "All checks passed!")."""
    cli = run_cli("check", "--target-version", value, ".", cwd=project)
    assert cli.returncode == 2
    assert f"argument --target-version: {message}" in cli.stderr
    assert "internal error" not in cli.stderr and cli.stdout == ""
    (project / "pyproject.toml").write_text(f'[tool.prefect-lint]\ntarget-version = "{value}"\n')
    config = run_cli("check", ".", cwd=project)
    assert config.returncode == 2
    assert f"`target-version`: {message}" in config.stderr
    assert config.stdout == ""


def test_valid_target_versions_are_accepted(project: Path) -> None:
    for value in ("3", "3.4", "3.4.14", "2.19"):
        result = run_cli("check", "--target-version", value, "--show-settings", cwd=project)
        assert result.returncode == 0, result.stderr


def test_stdin(project: Path) -> None:
    result = run_cli(
        "check",
        "-",
        "--stdin-filename",
        "pipeline.py",
        "--output-format",
        "concise",
        cwd=project,
        stdin=BAD,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("pipeline.py:1:33: PFL105")


def test_stdin_fix_prints_fixed_source(project: Path) -> None:
    result = run_cli("check", "--fix", "-", cwd=project, stdin=BAD)
    assert "from prefect.futures import wait\n" in result.stdout
    assert "Found 2 errors (1 fixed, 1 remaining)." in result.stderr


def test_jobs_give_the_same_result(tmp_path: Path) -> None:
    for index in range(40):
        (tmp_path / f"flow_{index:02}.py").write_text(BAD)
    serial = run_cli("check", "--jobs", "1", "--output-format", "concise", ".", cwd=tmp_path)
    parallel = run_cli("check", "--jobs", "2", "--output-format", "concise", ".", cwd=tmp_path)
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count("PFL105") == 40


def test_version_and_usage_errors(project: Path) -> None:
    version = run_cli("--version", cwd=project)
    assert version.stdout.startswith("prefect-lint ")
    assert run_cli("check", "--output-format", "xml", cwd=project).returncode == 2
    assert run_cli("check", "--jobs", "0", cwd=project).returncode == 2


def test_rule_command(project: Path) -> None:
    docs = run_cli("rule", "PFL105", cwd=project)
    assert docs.returncode == 0
    for heading in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix safety",
    ):
        assert heading in docs.stdout
    assert docs.stdout.startswith("# wait-import (PFL105)")
    listing = run_cli("rule", "--all", cwd=project)
    assert "PFL101 unsafe, sometimes flow-submit" in listing.stdout
    assert "PFL105 safe, always      wait-import" in listing.stdout
    assert "PFL000 —" in listing.stdout
    # PFL102's docs list shapes that get no fix: the header must not claim "always".
    unwaited = run_cli("rule", "PFL102", cwd=project).stdout.splitlines()
    assert unwaited[2].startswith("Fix is sometimes available (safe).")
    assert run_cli("rule", "PFL999", cwd=project).returncode == 2


def test_project_with_import_cycles_finishes(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    (package / "__init__.py").write_text("from pkg.a import fetch\n")
    (package / "a.py").write_text(
        "from prefect import flow, task\nfrom pkg.b import load\n\n\n@task\n"
        "def fetch(n: int) -> int:\n    return n\n\n\n@flow\ndef run() -> None:\n"
        "    load.submit(fetch.submit(1))\n"
    )
    (package / "b.py").write_text(
        "from prefect import task\nfrom pkg import a, fetch\n\n\n@task\ndef load(n: int) -> int:\n"
        "    return n\n"
    )
    result = run_cli("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("pkg/a.py:12:5: PFL102")


UNWAITED = (
    "from prefect import flow, task\n\n\n@task\ndef t() -> None:\n    pass\n\n\n"
    "@flow\ndef child() -> None:\n    pass\n\n\n"
    "@flow\ndef f() -> None:\n    t.submit()\n    child.submit()\n"
)


@pytest.mark.parametrize(
    ("pin_file", "content", "reported"),
    [
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = ["prefect==2.19.1"]\n', False),
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = ["prefect>=3.4,<4"]\n', True),
        ("requirements.txt", "prefect-aws==0.4.0\nprefect<3\n", False),
        ("requirements.txt", "prefect~=3.1\n", True),
        ("pyproject.toml", '[tool.poetry.dependencies]\nprefect = "^2.14"\n', False),
        ("pyproject.toml", '[tool.prefect-lint]\ntarget-version = "2.20"\n', False),
    ],
)
def test_target_version_from_pins(
    tmp_path: Path, pin_file: str, content: str, reported: bool
) -> None:
    (tmp_path / pin_file).write_text(content)
    (tmp_path / "flows.py").write_text(UNWAITED)
    result = run_cli("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert ("PFL102" in result.stdout) is reported, result.stdout
    # No 2.x flow has `.submit()` either (checked on 2.20.17): PFL101 holds on every target.
    assert "flows.py:17:5: PFL101" in result.stdout


def test_show_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["prefect>=3.4.14,<4"]\n\n'
        '[tool.prefect-lint]\nignore = ["PFL103"]\n'
        'extend-task-decorators = ["acme.prefect_utils.tracked_task"]\n'
    )
    result = run_cli("check", "--show-settings", cwd=tmp_path)
    assert "task decorators:  prefect.task, acme.prefect_utils.tracked_task" in result.stdout
    assert result.returncode == 0
    assert f"project root:     {tmp_path}" in result.stdout
    assert (
        "target prefect:   3.4 (" in result.stdout
        and "pyproject.toml (prefect pin)" in result.stdout
    )
    assert "ignore:           PFL103" in result.stdout
    assert "PFL103" not in result.stdout.split("enabled rules:")[1]
