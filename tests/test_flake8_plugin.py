"""The flake8 plugin, through the real `flake8` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from prefect_lint.rule_codes import RULE_CODES

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


# -- only the codes flake8 reports are checked ------------------------------------------------

# PFL105 on line 1 and PFL101 on lines 11 to 14: line 12 silences PFL101, line 13 every code,
# line 14 another code only.
NOQA_SOURCE = (
    SOURCE + "    wait([child.submit()])  # noqa\n" + "    wait([child.submit()])  # noqa: E501\n"
)

# What flake8 gets with `PFL` selected and no `preview = true` nearby: the stable rules.
ALL_CODES = frozenset(code for code, rule in RULE_CODES.items() if not rule.preview)
PREVIEW_CODES = frozenset(RULE_CODES) - ALL_CODES


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, frozenset[str]]]:
    """(file name, codes) of every file the plugin hands to the engine during the test."""
    from prefect_lint.engine import checker

    calls: list[tuple[str, frozenset[str]]] = []
    real_check = checker.check_source

    def spy(source: str, path: str, codes: frozenset[str], **options: Any) -> Any:
        calls.append((Path(path).name, codes))
        return real_check(source, path, codes, **options)

    monkeypatch.setattr(checker, "check_source", spy)
    return calls


def _flake8_in_process(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    """A real flake8 run in this process (with `--jobs 1`, the engine can be watched; else in
    forked workers, as flake8 runs by default): exit code, sorted output lines."""
    from flake8.main.cli import main as flake8_main

    capsys.readouterr()
    status = flake8_main(args)
    lines = [line.split("/")[-1] for line in capsys.readouterr().out.splitlines()]
    return status, sorted(lines)


def _project(tmp_path: Path) -> Path:
    for name in ("skipped.py", "partly.py", "checked.py"):
        (tmp_path / name).write_text(NOQA_SOURCE)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--extend-ignore", "PFL"], frozenset()),
        (["--ignore", "PFL"], frozenset()),
        (["--select", "E,F,W"], frozenset()),
        (["--select", "PFL101"], frozenset({"PFL101"})),
        (
            ["--select", "E", "--extend-select", "PFL10"],
            frozenset(c for c in ALL_CODES if c.startswith("PFL10")),
        ),
        (["--ignore", "PFL105"], ALL_CODES - {"PFL105"}),
        (
            ["--extend-select", "PFL", "--extend-ignore", "PFL2,PFL3"],
            frozenset(c for c in ALL_CODES if c[3] in "014"),
        ),
        ([], ALL_CODES),
    ],
)
def test_flake8_plugin_checks_only_the_codes_flake8_reports(
    tmp_path: Path,
    args: list[str],
    expected: frozenset[str],
    engine_calls: list[tuple[str, frozenset[str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "flows.py"
    path.write_text(NOQA_SOURCE)
    _flake8_in_process([*args, str(path)], capsys)
    assert engine_calls == ([("flows.py", expected)] if expected else [])


def test_flake8_plugin_skips_files_whose_per_file_ignores_cover_its_codes(
    tmp_path: Path,
    engine_calls: list[tuple[str, frozenset[str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = _project(tmp_path)
    ignores = "skipped.py:PFL partly.py:PFL105,E"
    status, lines = _flake8_in_process(
        ["--jobs", "1", "--select", "PFL", "--per-file-ignores", ignores, str(project)], capsys
    )
    assert sorted(engine_calls) == [
        ("checked.py", ALL_CODES),
        ("partly.py", ALL_CODES - {"PFL105"}),
    ]
    assert status == 1
    assert [line.split(" ")[0] for line in lines] == [
        "checked.py:11:11:",
        "checked.py:14:11:",
        "checked.py:1:27:",
        "partly.py:11:11:",
        "partly.py:14:11:",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["--select", "PFL"],
        ["--select", "PFL", "--disable-noqa"],
        ["--extend-select", "PFL", "--per-file-ignores", "skipped.py:PFL partly.py:PFL101"],
        ["--select", "E,PFL105", "--per-file-ignores", "*.py:PFL1"],
        ["--extend-ignore", "PFL"],
    ],
)
def test_flake8_reports_the_same_as_when_every_code_is_checked(
    tmp_path: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Skipping codes changes nothing flake8 prints: noqa, --disable-noqa and per-file
    ignores still work as flake8 applies them (the reference run checks every code)."""
    from prefect_lint.frontends.flake8_plugin import Flake8Plugin

    project = _project(tmp_path)
    narrowed = _flake8_in_process([*args, str(project)], capsys)

    def every_code(cls: type[Flake8Plugin], options: object) -> None:
        cls._selection = None

    monkeypatch.setattr(Flake8Plugin, "parse_options", classmethod(every_code))
    assert narrowed == _flake8_in_process([*args, str(project)], capsys)


PREVIEW_SOURCE = """\
from prefect import flow, get_run_logger

logger = get_run_logger()


@flow
def etl() -> None:
    logger.info("start")
"""


def test_flake8_runs_preview_rules_only_where_the_configuration_enables_preview(
    tmp_path: Path,
    engine_calls: list[tuple[str, frozenset[str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As `prefect-lint check` does: selecting a preview code (or `PFL`) in flake8 is not
    enough, the configuration nearest the file must say `preview = true`."""
    assert PREVIEW_CODES, "no preview rule left: this test has nothing to check"
    stable = tmp_path / "stable"
    stable.mkdir()
    (stable / "flows.py").write_text(PREVIEW_SOURCE)
    previewing = tmp_path / "previewing"
    previewing.mkdir()
    (previewing / "flows.py").write_text(PREVIEW_SOURCE)
    (previewing / "pyproject.toml").write_text("[tool.prefect-lint]\npreview = true\n")

    status, lines = _flake8_in_process(["--jobs", "1", "--select", "PFL401", str(tmp_path)], capsys)

    assert engine_calls == [("flows.py", frozenset({"PFL401"}))]
    assert status == 1
    assert [line.split(" ")[:2] for line in lines] == [["flows.py:3:10:", "PFL401"]]
    engine_calls.clear()
    _, everything = _flake8_in_process(["--jobs", "1", "--select", "PFL", str(tmp_path)], capsys)
    assert sorted(codes for _, codes in engine_calls) == sorted([ALL_CODES, frozenset(RULE_CODES)])
    assert [line.split(" ")[1] for line in everything] == ["PFL401"]


def test_flake8_noqa_is_applied_by_flake8(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(NOQA_SOURCE)
    honoured = _flake8("--select", "PFL", "flows.py", cwd=tmp_path)
    assert [line.split(" ")[0] for line in honoured.stdout.splitlines()] == [
        "flows.py:1:27:",
        "flows.py:11:11:",
        "flows.py:14:11:",
    ]
    disabled = _flake8("--select", "PFL", "--disable-noqa", "flows.py", cwd=tmp_path)
    assert [line.split(" ")[0] for line in disabled.stdout.splitlines()] == [
        "flows.py:1:27:",
        "flows.py:11:11:",
        "flows.py:12:11:",
        "flows.py:13:11:",
        "flows.py:14:11:",
    ]


IMPORTED = """\
import sys

from flake8.main.cli import main

status = main(sys.argv[1:])
heavy = ("libcst", "prefect_lint.engine.checker", "prefect_lint.rules")
print(" ".join(name for name in heavy if name in sys.modules))
"""


@pytest.mark.parametrize(
    ("args", "imported"),
    [
        (["--extend-ignore", "PFL"], ""),
        (["--select", "E,W,F"], ""),
        (["--per-file-ignores", "flows.py:PFL"], ""),
        (["--select", "PFL105"], "libcst prefect_lint.engine.checker prefect_lint.rules"),
    ],
)
def test_flake8_without_pfl_codes_never_imports_the_engine(
    tmp_path: Path, args: list[str], imported: str
) -> None:
    """flake8 imports the plugin on every run: with no PFL code to report, neither LibCST nor
    the engine is loaded (the measured cost of an unselected plugin is its import)."""
    (tmp_path / "flows.py").write_text(NOQA_SOURCE)
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED, *args, "flows.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.splitlines()[-1] == imported, result.stderr
    assert ("PFL" in result.stdout) == bool(imported)
