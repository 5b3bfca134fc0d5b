"""The terminal: colour on a TTY only (NO_COLOR / FORCE_COLOR), -q/--quiet, --silent,
--exit-non-zero-on-fix, --add-noqa and --watch, through the real command."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import run_cli

BAD = "from prefect import flow, wait\n\n\n@flow\ndef parent() -> None:\n    wait([])\n"
RED_CODE = "\x1b[1;31mPFL105\x1b[0m"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "flows.py").write_text(BAD)
    return tmp_path


def _in_terminal(cwd: Path, *args: str, **env: str) -> str:
    """Run the command with its stdout on a pseudo-terminal; what it printed there."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    environment.update(env, TERM="xterm")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect_lint", *args],
        cwd=cwd,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=environment,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(controller)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_colour_on_a_terminal(project: Path) -> None:
    output = _in_terminal(project, "check", "--no-cache", "flows.py")
    assert RED_CODE in output
    assert "\x1b[1mflows.py\x1b[0m:1:27:" in output
    assert "\x1b[36m [*]\x1b[0m" in output


def test_no_colour_when_piped_or_no_color(project: Path) -> None:
    piped = run_cli("check", "flows.py", cwd=project)
    assert "\x1b[" not in piped.stdout and "PFL105" in piped.stdout
    assert "\x1b[" not in _in_terminal(project, "check", "flows.py", NO_COLOR="1")
    # NO_COLOR wins over FORCE_COLOR, as in Python's own tracebacks.
    both = _in_terminal(project, "check", "flows.py", NO_COLOR="1", FORCE_COLOR="1")
    assert "\x1b[" not in both
    # Writing to a file is never coloured.
    run_cli("check", "-o", "report.txt", "flows.py", cwd=project)
    assert "\x1b[" not in (project / "report.txt").read_text()


def test_force_color_when_piped(project: Path) -> None:
    env = {**os.environ, "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        [sys.executable, "-m", "prefect_lint", "check", "flows.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert RED_CODE in result.stdout
    assert (
        "\x1b[1;32mAll checks passed!\x1b[0m"
        in subprocess.run(
            [sys.executable, "-m", "prefect_lint", "check", "--ignore", "PFL105", "flows.py"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )


def test_quiet_and_silent(project: Path) -> None:
    quiet = run_cli("check", "-q", "--output-format", "concise", "flows.py", cwd=project)
    assert quiet.returncode == 1
    assert quiet.stdout.startswith("flows.py:1:27: PFL105") and "Found" not in quiet.stdout
    silent = run_cli("check", "--silent", "flows.py", cwd=project)
    assert silent.returncode == 1 and silent.stdout == "" and silent.stderr == ""
    diff = run_cli("check", "--diff", "--quiet", "flows.py", cwd=project)
    assert "+from prefect.futures import wait" in diff.stdout and diff.stderr == ""
    assert run_cli("check", "--silent", "--diff", "flows.py", cwd=project).stdout == ""


def test_exit_non_zero_on_fix(project: Path) -> None:
    assert run_cli("check", "--exit-non-zero-on-fix", "flows.py", cwd=project).returncode == 2
    result = run_cli("check", "--fix", "--exit-non-zero-on-fix", "flows.py", cwd=project)
    assert result.returncode == 1
    assert "Found 1 error (1 fixed, 0 remaining)." in result.stdout
    # Nothing left to fix: 0.
    assert (
        run_cli("check", "--fix", "--exit-non-zero-on-fix", "flows.py", cwd=project).returncode == 0
    )


ADOPT = '''\
from prefect import flow, wait


@flow
def child() -> int:
    return 1


@flow
def parent() -> None:
    wait([child.submit()])  # noqa: E501
    child.submit()  # legacy
    child.submit(
        """multi-line
        argument"""
    )
    child.submit("""
    text""")
'''

ADOPTED = '''\
from prefect import flow, wait  # noqa: PFL105


@flow
def child() -> int:
    return 1


@flow
def parent() -> None:
    wait([child.submit()])  # noqa: E501, PFL101
    child.submit()  # legacy  # noqa: PFL101
    child.submit(  # noqa: PFL101
        """multi-line
        argument"""
    )
    child.submit("""
    text""")
'''


def test_add_noqa(project: Path) -> None:
    (project / "flows.py").write_text(ADOPT)
    result = run_cli("check", "--add-noqa", "flows.py", cwd=project)
    # The last call's line ends inside a string: a comment there would be text.
    assert result.returncode == 2
    assert result.stdout == "Added 4 noqa directives.\n"
    assert "flows.py:17: cannot add `# noqa`" in result.stderr
    assert (project / "flows.py").read_text() == ADOPTED
    after = run_cli("check", "--output-format", "concise", "flows.py", cwd=project)
    assert [line.split()[1] for line in after.stdout.splitlines()[:-2]] == ["PFL101"]
    assert "flows.py:17:5: PFL101" in after.stdout
    again = run_cli("check", "--add-noqa", "flows.py", cwd=project)
    assert again.stdout == "Added 0 noqa directives.\n"
    assert (project / "flows.py").read_text() == ADOPTED
    assert run_cli("check", "--add-noqa", "--fix", "flows.py", cwd=project).returncode == 2


def _read_until(
    process: subprocess.Popen[bytes],
    text: str,
    poke: Callable[[], None] | None = None,
    timeout: float = 60,
) -> str:
    """Output until `text`; `poke` (a file write) is repeated every 2 s meanwhile, since the
    watcher starts only after the first check (a write before that would be missed)."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    if poke is not None:
        poke()
    while text.encode() not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {text!r} in {seen.decode()!r}"
        ready, _, _ = select.select([process.stdout], [], [], min(remaining, 2.0))
        if not ready and poke is not None:
            poke()
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, f"exited before {text!r}: {seen.decode()!r}"
            seen += chunk
    return seen.decode()


# `prefect-lint check --watch`, with Ctrl-C raising KeyboardInterrupt even when this process
# was started with SIGINT ignored (a child Python inherits an ignored SIGINT and then never
# installs its handler, so the test's Ctrl-C would be lost, not the watcher's fault).
_WATCH = [
    sys.executable,
    "-c",
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from prefect_lint.frontends.cli import main; raise SystemExit(main(sys.argv[1:]))",
    "check",
    "--watch",
]


def test_watch_checks_again_after_a_change(project: Path) -> None:
    pytest.importorskip("watchfiles")
    process = subprocess.Popen(
        [*_WATCH, "--output-format", "concise"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = _read_until(process, "Found 1 error.")
        assert "flows.py:1:27: PFL105" in first
        time.sleep(0.5)  # the watcher is set up after the first check
        (project / "flows.py").write_text(
            BAD.replace(", wait", "").replace("    wait([])", "    pass")
        )
        _read_until(process, "All checks passed!")
        (project / "notes.log").write_text("ignored: not a watched file type")
        (project / "flows.py").write_text(BAD)
        assert "Found 1 error." in _read_until(process, "Found 1 error.")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 130


def test_watch_sees_a_changed_imported_module(tmp_path: Path) -> None:
    """A round of `--watch` in the same process reads the project anew: a task that became a
    plain function in another module no longer makes its `.submit()` a future."""
    pytest.importorskip("watchfiles")
    (tmp_path / ".git").mkdir()
    (tmp_path / "steps.py").write_text(
        "from prefect import task\n\n\n@task\ndef one():\n    return 1\n"
    )
    (tmp_path / "flows.py").write_text(
        "from prefect import flow\n\nfrom steps import one\n\n\n@flow\ndef main():\n"
        "    one.submit()\n"
    )
    process = subprocess.Popen(
        [*_WATCH, "--jobs", "1", "--no-cache"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert "PFL102" in _read_until(process, "Found 1 error.")
        time.sleep(0.5)  # the watcher is set up after the first check
        (tmp_path / "steps.py").write_text("def one():\n    return 1\n")
        _read_until(process, "All checks passed!")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
