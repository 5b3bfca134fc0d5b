"""The program `benchmarks/budgets.py` times flake8 with: its variants differ in the plugin
only, and the timed one reports the plugin's own CPU time without changing the output."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _program() -> str:
    """The flake8 program of benchmarks/budgets.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("budgets", ROOT / "benchmarks" / "budgets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("budgets", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    program = module._FLAKE8
    assert isinstance(program, str)
    return program


PROGRAM = _program()

SOURCE = "from prefect import flow\n\n\n@flow\ndef child() -> int:\n    return 1\n\n\n" + (
    "@flow\ndef parent() -> None:\n    child.submit()\n"
)


def _run(mode: str, *args: str, cwd: Path) -> tuple[list[str], float]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode, "--jobs", "1", *args, "flows.py"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("plugin CPU"), done.stderr
    return done.stdout.splitlines(), float(last.split()[-1])


def test_the_flake8_variants_differ_in_the_plugin_only(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(SOURCE)
    without, _ = _run("without", "--extend-select", "PFL", cwd=tmp_path)
    kept, _ = _run("with", "--extend-select", "PFL", cwd=tmp_path)
    timed, own = _run("timed", "--extend-select", "PFL", cwd=tmp_path)
    assert not any("PFL" in line for line in without)
    assert any("PFL101" in line for line in kept)
    assert timed == kept
    assert [line for line in kept if "PFL" not in line] == without
    assert own > 0.01  # the engine's import and the check of the file
    ignored, own_ignored = _run("timed", "--extend-ignore", "PFL", cwd=tmp_path)
    assert ignored == without
    assert 0 < own_ignored < own
