"""Project modules are found without a root marker, the way Python and mypy find them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from prefect_lint.config import all_codes
from prefect_lint.engine.checker import check_source
from prefect_lint.model.exports import index_for
from prefect_lint.model.root import find_project_root, import_root

STEPS = """\
from prefect import flow, task


@task
def archive(name: str) -> str:
    return name


@flow
def transform(name: str) -> str:
    return name
"""

ORCHESTRATE = """\
from prefect import flow

from pipeline import steps
from pipeline.steps import transform


@flow
def orchestrate() -> None:
    steps.archive.submit("a")
    transform.submit("b")
"""


def write_pipeline(base: Path) -> Path:
    package = base / "pipeline"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "steps.py").write_text(STEPS)
    orchestrate = package / "orchestrate.py"
    orchestrate.write_text(ORCHESTRATE)
    return orchestrate


def codes_of(path: Path) -> Counter[str]:
    diagnostics = check_source(
        path.read_text(), str(path), frozenset(all_codes()), index=index_for(str(path))
    )
    return Counter(d.code for d in diagnostics)


@pytest.mark.parametrize("marker", [None, "pyproject.toml"])
def test_package_import_resolves_with_and_without_marker(tmp_path: Path, marker: str | None):
    base = tmp_path / "work"
    orchestrate = write_pipeline(base)
    if marker is not None:
        (base / marker).write_text("")
    # `steps.archive.submit` is unwaited (PFL102); `transform` is a flow (PFL101).
    assert codes_of(orchestrate) == Counter({"PFL102": 1, "PFL101": 1})


def test_nested_package_under_a_marked_root(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("")
    orchestrate = write_pipeline(tmp_path / "apps")
    assert codes_of(orchestrate) == Counter({"PFL102": 1, "PFL101": 1})


def test_import_root_walks_up_through_packages(tmp_path: Path):
    inner = tmp_path / "a" / "b" / "c"
    inner.mkdir(parents=True)
    (tmp_path / "a" / "b" / "__init__.py").write_text("")
    (inner / "__init__.py").write_text("")
    module = inner / "mod.py"
    module.write_text("")
    assert import_root(str(module)) == str(tmp_path / "a")
    assert find_project_root(str(module)) == str(tmp_path / "a")
    # A plain directory (no __init__.py) is its own import root.
    loose = tmp_path / "loose.py"
    loose.write_text("")
    assert import_root(str(loose)) == str(tmp_path)
