"""Run code on real Prefect 2.20 and on the test venv's Prefect 3, each in its own process.

`prefect2_python()` builds (once, then reuses) a virtualenv with Prefect 2.20 under
`~/.cache/prefect-lint/` (or `$PREFECT_LINT_CACHE`), keyed by the exact requirements and the
Python that runs it. `SnippetRunner` runs snippets there, or in the test venv, and returns what
happened: stdout, stderr, the exception (type, message), warnings and the snippet's `result`
variable. The session fixtures `prefect2` and `prefect3` live in `tests/runtime/conftest.py`.

Prefect 2.20.17 needs `pydantic==2.9.2` beside it: later pydantic releases break its import.
Its ephemeral API runs in-process on a SQLite file under `PREFECT_HOME`; the build step
creates that database once (migrations take tens of seconds) and every session starts from
a copy of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFECT2_REQUIREMENTS: tuple[str, ...] = ("prefect==2.20.17", "pydantic==2.9.2")
PREFECT2_VERSION = "2.20.17"

_WORKER = Path(__file__).with_name("_snippet_worker.py")
_BUILD_TIMEOUT_S = 1500
_WARM_UP = """
from prefect import flow

@flow
def warm_up() -> int:
    return 1

assert warm_up() == 1
"""


def cache_root() -> Path:
    configured = os.environ.get("PREFECT_LINT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "prefect-lint"


def environment_key(requirements: tuple[str, ...] = PREFECT2_REQUIREMENTS) -> str:
    """Changes whenever what the venv would contain can change."""
    material = "\n".join(
        [*requirements, sys.version, os.path.realpath(sys.base_prefix), _WARM_UP]
    ).encode()
    return hashlib.sha256(material).hexdigest()[:16]


def prefect_environment(base: Path) -> dict[str, str]:
    """Environment variables that keep a Prefect process off the user's `~/.prefect`."""
    return {
        "PREFECT_HOME": str(base),
        "PREFECT_PROFILES_PATH": str(base / "profiles.toml"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }


def _clean_environ(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its Prefect settings, plus `env`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**kept, **env}


def _log(message: str) -> None:
    # Visible with `pytest -s`; the build is the one slow step a fresh machine pays.
    print(f"[prefect2] {message}", file=sys.stderr, flush=True)


def _run_build_step(command: list[str], env: Mapping[str, str] | None = None) -> None:
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=_BUILD_TIMEOUT_S,
        env=None if env is None else _clean_environ(env),
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"building the Prefect 2 environment failed: {' '.join(command)}\n"
            f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
        )


def prefect2_environment(requirements: tuple[str, ...] = PREFECT2_REQUIREMENTS) -> Path:
    """The directory of the cached Prefect 2 environment (`venv/`, `home/`), built if needed.

    A lock file serialises builds across concurrent test sessions; a marker written last
    tells a complete build from one that was interrupted (which is removed and redone)."""
    root = cache_root() / f"prefect2-{environment_key(requirements)}"
    marker = root / "complete.json"
    if marker.is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():
            return root
        shutil.rmtree(root, ignore_errors=True)
        started = time.monotonic()
        _log(f"building {' '.join(requirements)} in {root} (a few minutes, once)")
        venv = root / "venv"
        _run_build_step([sys.executable, "-m", "venv", str(venv)])
        python = str(venv / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run_build_step([*pip, *requirements])
        # Create the SQLite database once; sessions copy it instead of migrating again.
        home = root / "home"
        home.mkdir()
        _run_build_step([python, "-c", _WARM_UP], env=prefect_environment(home))
        seconds = round(time.monotonic() - started, 1)
        marker.write_text(json.dumps({"requirements": requirements, "seconds": seconds}))
        _log(f"built in {seconds} s")
    return root


@dataclass
class SnippetResult:
    """What one snippet did."""

    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool
    seconds: float
    exception: dict[str, Any] | None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    value: Any = None

    @property
    def ok(self) -> bool:
        return self.exception is None and self.exit_code == 0 and not self.timed_out

    @property
    def error_type(self) -> str | None:
        return None if self.exception is None else self.exception["type"]

    @property
    def error_message(self) -> str | None:
        return None if self.exception is None else self.exception["message"]

    def raised(self, type_name: str) -> bool:
        """The snippet raised `type_name` or a subclass (by class name or qualified name)."""
        if self.exception is None:
            return False
        return any(
            type_name in (qualified, qualified.rsplit(".", 1)[-1])
            for qualified in self.exception["mro"]
        )

    def warned(self, category: str) -> list[str]:
        """Messages of the warnings of `category` (or a subclass) the snippet emitted."""
        return [w["message"] for w in self.warnings if category in w.get("mro", [w["category"]])]

    def describe(self) -> str:
        """For assertion messages."""
        parts = [f"exit={self.exit_code} timed_out={self.timed_out} value={self.value!r}"]
        if self.exception is not None:
            parts.append(self.exception["traceback"])
        shown = sorted({f"{w['category']}: {w['message'][:200]}" for w in self.warnings})
        if shown:
            parts.append("warnings:\n" + "\n".join(shown[:10]))
        parts.append(f"stdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}")
        return "\n".join(parts)


class SnippetRunner:
    """One worker process for one Python: each `run` forks a fresh child from it."""

    def __init__(self, python: str | Path, env: Mapping[str, str], label: str) -> None:
        self.label = label
        # The worker's own stderr (not the snippets'): why it stopped, if it does.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        self._process = subprocess.Popen(
            [str(python), str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=_clean_environ(env),
        )
        hello = self._read()
        self.version: str = hello["version"]

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._stderr.seek(0)
            raise RuntimeError(
                f"the {self.label} snippet worker stopped:\n{self._stderr.read()[-4000:]}"
            )
        return json.loads(line)

    def run(self, code: str, timeout: float = 300.0) -> SnippetResult:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"code": code, "timeout": timeout}) + "\n")
        self._process.stdin.flush()
        answer = self._read()
        return SnippetResult(
            stdout=answer.get("stdout", ""),
            stderr=answer.get("stderr", ""),
            exit_code=answer.get("exit_code"),
            timed_out=bool(answer.get("timed_out")),
            seconds=float(answer.get("seconds", 0.0)),
            exception=answer.get("exception"),
            warnings=answer.get("warnings") or [],
            value=answer.get("value"),
        )

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stderr.close()


@contextlib.contextmanager
def prefect2_runner() -> Iterator[SnippetRunner]:
    """A runner on the cached Prefect 2 venv, with a private copy of its database."""
    root = prefect2_environment()
    home = Path(tempfile.mkdtemp(prefix="prefect-lint-prefect2-home-"))
    shutil.copytree(root / "home", home, dirs_exist_ok=True)
    runner = SnippetRunner(root / "venv" / "bin" / "python", prefect_environment(home), "Prefect 2")
    try:
        yield runner
    finally:
        runner.close()
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def prefect3_runner(api_url: str, home: str) -> Iterator[SnippetRunner]:
    """A runner on the test venv's Prefect 3, talking to the session's test server."""
    env = prefect_environment(Path(home))
    env["PREFECT_API_URL"] = api_url
    runner = SnippetRunner(sys.executable, env, "Prefect 3")
    try:
        yield runner
    finally:
        runner.close()


def prefect_wheel(version: str) -> Path:
    """The published wheel of Prefect `version` (downloaded once into the cache), to read
    a release's source without installing it."""
    folder = cache_root() / "wheels"
    found = sorted(folder.glob(f"prefect-{version}-*.whl"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    _run_build_step(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"prefect=={version}",
            "-d",
            str(folder),
        ]
    )
    found = sorted(folder.glob(f"prefect-{version}-*.whl"))
    if not found:
        raise RuntimeError(f"pip downloaded no wheel for prefect=={version}")
    return found[0]
