"""The flake8 plugin, through the real `flake8` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SOURCE = """\
from prefect import flow, wait


@flow
def child() -> int:
    return 1


@flow
def parent() -> None:
    wait([child.submit()])
    wait([child.submit()])  # noqa: PFL101
"""


def _flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flake8_reports_pfl_codes_with_positions(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(SOURCE)
    result = _flake8("--select", "PFL", "flows.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "flows.py:1:27: PFL105 `from prefect import wait` raises ImportError: cannot import "
        "name 'wait' from 'prefect'; import it from `prefect.futures`",
        "flows.py:11:11: PFL101 `child.submit()` raises AttributeError: 'Flow' object has no "
        "attribute 'submit'; run the flow through a task to submit it",
    ]


def test_flake8_enables_the_plugin_by_default_and_honours_ignore(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(SOURCE)
    default = _flake8("flows.py", cwd=tmp_path)
    assert "PFL105" in default.stdout and "PFL101" in default.stdout
    (tmp_path / "setup.cfg").write_text("[flake8]\nextend-ignore = PFL105\n")
    configured = _flake8("flows.py", cwd=tmp_path)
    assert "PFL105" not in configured.stdout and "PFL101" in configured.stdout


def test_flake8_plugin_is_registered() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, timeout=60
    )
    assert "prefect-lint" in result.stdout


def test_flake8_sees_tasks_and_flows_from_other_modules() -> None:
    project = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "etl_app"
    result = _flake8("--select", "PFL", ".", cwd=project)
    found = sorted(line.split(" ")[0] + line.split(" ")[1] for line in result.stdout.splitlines())
    assert found == [
        "./etl_app/cycle_a.py:15:5:PFL102",
        "./etl_app/cycle_b.py:13:5:PFL102",
        "./etl_app/flows/orchestrate.py:11:13:PFL102",
        "./etl_app/flows/orchestrate.py:12:14:PFL102",
        "./etl_app/flows/orchestrate.py:13:5:PFL102",
        "./etl_app/flows/orchestrate.py:14:5:PFL101",
        "./scripts/run_all.py:10:9:PFL102",
    ]


def test_flake8_honours_configured_and_detected_wrappers() -> None:
    project = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "wrappers_app"
    result = _flake8("--select", "PFL", ".", cwd=project)
    found = sorted(line.split(" ")[0] + line.split(" ")[1] for line in result.stdout.splitlines())
    assert found == [
        "./wrappers_app/pipeline.py:29:5:PFL102",
        "./wrappers_app/pipeline.py:30:5:PFL102",
        "./wrappers_app/pipeline.py:31:5:PFL102",
        "./wrappers_app/pipeline.py:32:5:PFL101",
        "./wrappers_app/pipeline.py:38:9:PFL103",
    ]


def test_flake8_reads_the_configuration_nearest_each_file(tmp_path: Path) -> None:
    """In a monorepo each file's `target-version` comes from its own nearest configuration
    (`svc/.prefect-lint.toml` extends the root and targets Prefect 2), as in the CLI."""
    from tests.monorepo import EXPECTED_FLAKE8, build_monorepo

    mono = build_monorepo(tmp_path / "mono")
    result = _flake8("--select", "PFL", *EXPECTED_FLAKE8, cwd=mono)
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        path, _, _, rest = line.split(":", 3)
        found.setdefault(path.removeprefix("./"), []).append(rest.split()[0])
    assert found == EXPECTED_FLAKE8


def test_flake8_plugin_runs_only_the_codes_flake8_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flake8.main.cli import main as flake8_main

    from prefect_lint.frontends import flake8_plugin

    monkeypatch.setattr(flake8_plugin.Flake8Plugin, "selected", None)  # restored afterwards
    asked: list[frozenset[str]] = []
    real_check = flake8_plugin.check_source

    def spy(source: str, path: str, codes: frozenset[str], **options: Any) -> Any:
        asked.append(codes)
        return real_check(source, path, codes, **options)

    monkeypatch.setattr(flake8_plugin, "check_source", spy)
    path = tmp_path / "flows.py"
    path.write_text(SOURCE)
    assert flake8_main(["--extend-ignore", "PFL", str(path)]) == 0
    assert asked == []
    assert flake8_main(["--select", "PFL101", str(path)]) == 1
    assert asked == [frozenset({"PFL101"})]
    reported = capsys.readouterr().out
    assert "PFL101" in reported and "PFL105" not in reported
