"""Every README snippet that can be checked offline works when copied: configuration files
load, commands parse (or run), example output is what the command prints, the pre-commit
config runs, and `.ci/run` runs the README's test command."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from prefect_lint.config import SettingsResolver, load_settings
from prefect_lint.frontends.cli import build_parser
from tests.helpers import ROOT, run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = (ROOT / "README.md").read_text(encoding="utf-8")
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
BLOCKS = [(match.group(1), match.group(2)) for match in _FENCE.finditer(README)]


def _blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == language]


def _setup_commands() -> tuple[str, str]:
    section = README[README.index("## Set up") : README.index("## Usage")]
    install, test = (m.group(2).strip() for m in _FENCE.finditer(section))
    return install, test


def test_every_block_has_a_known_language() -> None:
    assert {lang for lang, _ in BLOCKS} <= {
        "console",
        "diff",
        "python",
        "sh",
        "toml",
        "yaml",
        "json",
        "lua",
    }


def test_python_blocks_compile() -> None:
    for body in _blocks("python"):
        compile(body, "README.md", "exec")


def test_json_and_yaml_blocks_parse() -> None:
    yaml = pytest.importorskip("yaml")
    for body in _blocks("json"):
        json.loads(body)
    for body in _blocks("yaml"):
        assert isinstance(yaml.safe_load(body), dict)


def test_toml_blocks_parse_and_configurations_load(tmp_path: Path) -> None:
    tables = [tomllib.loads(body) for body in _blocks("toml")]
    configs = [
        b
        for b, t in zip(_blocks("toml"), tables, strict=True)
        if "prefect-lint" in t.get("tool", {})
    ]
    assert len(configs) == 2
    full, monorepo = configs
    # The full example: every key is known and every value valid.
    (tmp_path / "pyproject.toml").write_text(full)
    settings = load_settings(str(tmp_path / "pyproject.toml"))
    assert settings.ignore == ["PFL101"] and settings.target_version == "3.4"
    # The monorepo example, where its comment says it lives.
    service = tmp_path / "services" / "billing"
    service.mkdir(parents=True)
    (service / "pyproject.toml").write_text(monorepo)
    resolved = SettingsResolver()(str(service / "flows.py"))
    assert resolved.ignore == ["PFL101", "PFL106"] and resolved.target_version == "2.19"
    assert resolved.extends == [str(tmp_path / "pyproject.toml")]


def _commands(body: str) -> list[list[str]]:
    """`prefect-lint ...` invocations in a shell block, without comments or pipes before."""
    found = []
    for line in body.splitlines():
        line = line.split(" | ")[-1]
        words = shlex.split(line, comments=True)
        if words and words[0] == "prefect-lint":
            found.append(words[1:])
    return found


def test_usage_commands_parse() -> None:
    commands = [c for body in _blocks("sh") for c in _commands(body)]
    assert len(commands) >= 14
    parser = build_parser()
    for command in commands:
        parser.parse_args(command)  # exits (SystemExit) on an unknown option


# Options of other tools the README mentions.
FOREIGN_OPTIONS = {"--bleeding-edge", "--update-goldens", "--sdist"}


def test_every_option_the_readme_names_exists() -> None:
    parser = build_parser()
    known = {"--version"}
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for subparser in action.choices.values():  # type: ignore[union-attr]
            known |= {o for a in subparser._actions for o in a.option_strings}
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", README))
    assert named - FOREIGN_OPTIONS <= known, sorted(named - FOREIGN_OPTIONS - known)


def test_extras_named_in_install_commands_exist() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = set(pyproject["project"]["optional-dependencies"])
    for named in re.findall(r"\[([a-z,]+)\]", " ".join(_blocks("sh"))):
        assert set(named.split(",")) <= extras, named


def test_console_examples_are_what_the_commands_print(tmp_path: Path) -> None:
    """Each `$ command` block: its lines, in order, are in the real output (`...` elides)."""
    (tmp_path / "blob.py").write_bytes(b"prefect\x00")
    for body in _blocks("console"):
        first, *expected = body.splitlines()
        command = shlex.split(first.removeprefix("$ "))
        assert command[0] == "prefect-lint"
        cwd = tmp_path if "blob.py" in command else ROOT
        output = run_cli(*command[1:], "--no-cache", cwd=cwd).stdout.splitlines()
        position = 0
        for line in expected:
            if line.strip() == "...":
                continue
            assert line in output[position:], line
            position = output.index(line, position) + 1


def test_setup_commands_install_the_linter_alone_then_the_tests() -> None:
    install, test = _setup_commands()
    assert install == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && "
        ".venv/bin/prefect-lint check docs/examples/etl.py"
    )
    assert test == '.venv/bin/pip install -e ".[dev,runtime]" && .venv/bin/python -m pytest'


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, test = _setup_commands()
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.startswith(test)] == [f"{test} || exit $?"]


def _stub(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(("pytest_exit", "expected"), [(0, 0), (1, 1), (5, 5)])
def test_ci_script_fails_when_pytest_does(tmp_path: Path, pytest_exit: int, expected: int) -> None:
    """`.ci/run` on a machine whose python3 and virtualenv are stubs: pytest's exit code (5:
    no tests collected) stops it; ruff, then mypy, run only after a green pytest."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    bin_dir = tmp_path / "stubs"
    bin_dir.mkdir()
    log = tmp_path / "log"
    venv_bin = tmp_path / ".venv" / "bin"
    _stub(
        bin_dir / "python3",
        f'mkdir -p "{venv_bin}"\n'
        f"printf '#!/bin/sh\\necho pip \"$*\" >> {log}\\n' > {venv_bin}/pip\n"
        f"printf '#!/bin/sh\\necho python \"$*\" >> {log}\\nexit {pytest_exit}\\n' > "
        f"{venv_bin}/python\n"
        f"printf '#!/bin/sh\\necho ruff \"$*\" >> {log}\\n' > {venv_bin}/ruff\n"
        f"printf '#!/bin/sh\\necho mypy \"$*\" >> {log}\\n' > {venv_bin}/mypy\n"
        f"chmod +x {venv_bin}/pip {venv_bin}/python {venv_bin}/ruff {venv_bin}/mypy",
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], env=env, capture_output=True, text=True
    )
    assert result.returncode == expected, result.stderr
    calls = log.read_text().splitlines()
    assert calls[:2] == ["pip install -e .[dev,runtime]", "python -m pytest"]
    assert any(c.startswith("ruff") for c in calls) == (pytest_exit == 0)
    if pytest_exit == 0:
        assert calls[2:] == ["ruff check .", "ruff format --check .", "mypy "]


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_precommit_snippet_runs_as_copied(tmp_path: Path) -> None:
    """The README's `repo: local` configuration, run by pre-commit (offline: language system)."""
    (config,) = [b for b in _blocks("yaml") if b.startswith("repos:")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "home"),
        # `prefect-lint` as installed next to this interpreter.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        GIT_CONFIG_NOSYSTEM="1",
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / ".pre-commit-config.yaml").write_text(config)
    (project / "flows.py").write_text(
        "from prefect import flow, wait\n\n\n@flow\ndef f():\n    wait([])\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=project, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout
    assert "from prefect.futures import wait" in (project / "flows.py").read_text()
