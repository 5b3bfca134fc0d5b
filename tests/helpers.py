"""Running the real entry points from tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, cwd: Path | str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`prefect-lint ARGS` in a subprocess, exactly as a user would run it."""
    # Plain output whatever the caller's terminal settings (test_terminal.py sets its own).
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "prefect_lint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
