"""The pre-commit hooks in `.pre-commit-hooks.yaml`, run by pre-commit itself.

pre-commit installs the hooks from a git repository at a revision, with pip, into an environment
it caches under PRE_COMMIT_HOME. Both tests share one such home for the session, so the (network,
~20 s) install happens once. They run `pre-commit run` with the `.pre-commit-config.yaml` a user
writes (README, "pre-commit") rather than `pre-commit try-repo`: try-repo builds its environment in
a throw-away store every time (it ignores PRE_COMMIT_HOME), and its snapshot of a dirty checkout
leaves out untracked files, so a new hook file would not even be seen before it is committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = [
    pytest.mark.precommit,
    pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git"),
]

BAD = """\
from prefect import flow, wait


@flow
def parent() -> None:
    wait([])
"""

FIXED = """\
from prefect import flow
from prefect.futures import wait


@flow
def parent() -> None:
    wait([])
"""


def _env(home: Path) -> dict[str, str]:
    # Git variables of an enclosing hook or rebase would point git at the wrong repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, home: Path) -> tuple[Path, str]:
    """This checkout as it is on disk (uncommitted and untracked files too), committed."""
    env = _env(home)
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist): nothing to snapshot")
    snapshot = tmp_path_factory.mktemp("prefect-lint-snapshot")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the checkout is left out
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    _git("init", "--quiet", cwd=snapshot, env=env)
    _git("add", "--all", cwd=snapshot, env=env)
    _git("commit", "--quiet", "--no-verify", "-m", "snapshot", cwd=snapshot, env=env)
    return snapshot, _git("rev-parse", "HEAD", cwd=snapshot, env=env).strip()


@pytest.fixture
def project(tmp_path: Path, home: Path, hook_repo: tuple[Path, str]) -> Iterator[Path]:
    repo, rev = hook_repo
    env = _env(home)
    _git("init", "--quiet", cwd=tmp_path, env=env)
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {repo.as_posix()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: prefect-lint\n"
        "      - id: prefect-lint-fix\n"
    )
    (tmp_path / "bad_flow.py").write_text(BAD)
    (tmp_path / "notes.txt").write_text("from prefect import wait\n")  # not Python: skipped
    _git("add", "--all", cwd=tmp_path, env=env)
    yield tmp_path


def _pre_commit(hook: str, project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--color", "never"],
        cwd=project,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_check_hook_fails_naming_the_file_and_code(project: Path, home: Path) -> None:
    result = _pre_commit("prefect-lint", project, home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "prefect-lint" in result.stdout and "Failed" in result.stdout
    assert "bad_flow.py:1:27: PFL105" in result.stdout
    assert "notes.txt" not in result.stdout
    assert (project / "bad_flow.py").read_text() == BAD


def test_fix_hook_rewrites_the_file_then_both_hooks_pass(project: Path, home: Path) -> None:
    result = _pre_commit("prefect-lint-fix", project, home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout
    assert (project / "bad_flow.py").read_text() == FIXED

    for hook in ("prefect-lint-fix", "prefect-lint"):
        again = _pre_commit(hook, project, home)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Passed" in again.stdout
