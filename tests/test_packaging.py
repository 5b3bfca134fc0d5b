"""The package as a user gets it: the README's first command in a fresh virtualenv (the linter
alone, without Prefect), and the source archive, whose tests run from the unpacked copy."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.test_readme import _setup_commands

pytestmark = pytest.mark.install

# Files of the checkout the sdist must carry for its tests (besides the package itself).
NEEDED = ("tests/", "fixtures/", "docs/", "benchmarks/", ".ci/")


def _tracked() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout (an unpacked sdist)")
    return [name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (archive,) = out.glob("prefect_lint-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    (unpacked,) = (p for p in out.iterdir() if p.is_dir())
    return unpacked


def test_sdist_carries_the_tests_fixtures_docs_and_license(sdist: Path) -> None:
    wanted = {n for n in _tracked() if n.startswith(NEEDED) or n == "LICENSE"}
    present = {str(p.relative_to(sdist)) for p in sdist.rglob("*") if p.is_file()}
    assert wanted - present == set()
    assert (sdist / "LICENSE").read_text().split()[:3] == ["Apache", "License", "Version"]
    metadata = (sdist / "PKG-INFO").read_text()
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata


def test_tests_run_from_the_unpacked_sdist(sdist: Path) -> None:
    """A sample of the suite, importing `prefect_lint` from the archive (the current directory
    comes first on `python -m pytest`'s path)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_meta.py",
            "tests/test_readme.py",
            "tests/test_fixtures.py::test_every_rule_has_trigger_and_silent_fixtures",
        ],
        cwd=sdist,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import prefect_lint; print(prefect_lint.__file__)"],
        cwd=sdist,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(sdist))


def test_readme_first_command_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    """The linter alone: no Prefect, no test dependencies, and it finds the example's bugs."""
    install, _ = _setup_commands()
    checkout = tmp_path / "checkout"
    for name in _tracked():
        if name.startswith(("prefect_lint/", "docs/")) or name in (
            "pyproject.toml",
            "README.md",
            "LICENSE",
            "MANIFEST.in",
        ):
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            (checkout / name).write_bytes((ROOT / name).read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    result = subprocess.run(
        install, shell=True, cwd=checkout, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 1, result.stderr  # the example has two bugs
    assert "Found 2 errors." in result.stdout
    installed = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format", "freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    names = {line.split("==")[0] for line in installed.splitlines()}
    assert {"libcst", "pathspec", "prefect-lint"} <= names
    assert not names & {"prefect", "pytest", "flake8", "pygls", "boto3"}
