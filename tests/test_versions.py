"""The version model: ranges, the target's sources and evidence, and the engine's enforcement."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_lint.config import all_codes
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import fix_source
from prefect_lint.model.evidence import evidence_in_text, project_evidence
from prefect_lint.model.target import LATEST, Target, conflict, detect_target, with_text_evidence
from prefect_lint.rules import ALL_RULES
from prefect_lint.versions import (
    ALL_VERSIONS,
    LAST_2X,
    LATEST_3X,
    PREFECT_2,
    PREFECT_3,
    VersionRange,
    parse_version,
    since,
)

ALL = frozenset(all_codes())


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3.4", (3, 4)), ("3.4.14", (3, 4)), ("v3.1", (3, 1)), ("2", LAST_2X), ("2.19", (2, 19))],
)
def test_parse_version(text: str, expected: tuple[int, int]) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["py311", "", "3.x", "latest"])
def test_parse_version_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"3\.4"):
        parse_version(text)


def test_ranges() -> None:
    assert (2, 20) in PREFECT_2 and (2, 20) not in PREFECT_3
    assert (3, 0) in PREFECT_3 and LATEST_3X in PREFECT_3
    assert LAST_2X in ALL_VERSIONS and LATEST_3X in ALL_VERSIONS
    only_early = VersionRange((3, 0), (3, 2))
    assert (3, 1) in only_early and (3, 2) not in only_early and LATEST_3X not in only_early
    assert since("3.5") == VersionRange((3, 5), None)
    assert only_early.describe() == "Prefect 3.0 to 3.1"
    assert PREFECT_3.describe() == "Prefect 3.0 and later"
    assert PREFECT_2.describe() == "Prefect 2.x"
    assert ALL_VERSIONS.describe() == "every Prefect release"
    assert VersionRange((3, 3), (3, 4)).describe() == "Prefect 3.3 only"


def test_target_versions() -> None:
    assert LATEST.prefect_version == LATEST_3X and LATEST.default
    assert Target("2", "pin").prefect_version == LAST_2X
    assert Target("2", "pin").describe() == "2.x"
    assert Target("3.4", "pin").major == 3


TWO_X = "from prefect.deployments import Deployment\nfrom prefect import flow\n"


@pytest.mark.parametrize(
    ("source", "names"),
    [
        (TWO_X, ["prefect.deployments.Deployment"]),
        ("import prefect.orion.schemas as s\n", ["prefect.orion.schemas"]),
        ("from prefect.infrastructure import Process\n", ["prefect.infrastructure.Process"]),
        (
            "import prefect\nx = prefect.deployments.Deployment.build_from_flow\n",
            ["prefect.deployments.Deployment.build_from_flow"],
        ),
        (
            "from prefect import task_runners as tr\n\n"
            "@flow(task_runner=tr.SequentialTaskRunner())\ndef f(): ...\n",
            ["prefect.task_runners.SequentialTaskRunner"],
        ),
        # Compatibility code runs on both generations: not evidence.
        (
            "try:\n    from prefect.deployments import Deployment\n"
            "except ImportError:\n    Deployment = None\n",
            [],
        ),
        (
            "import prefect\nif prefect.__version__.startswith('2'):\n"
            "    from prefect.agent import PrefectAgent\n",
            [],
        ),
        # Names resolve through imports, never as bare text.
        ("Deployment = object()\nprint(Deployment, 'prefect.orion')\n", []),
        ("from .deployments import Deployment  # prefect\n", []),
        ("from prefect.task_runners import ConcurrentTaskRunner\n", []),  # still in 3.x
        ("from prefect import flow\nimport orion\n", []),
        ("from prefect.deployments import (\n", []),  # does not parse
    ],
)
def test_evidence_in_text(source: str, names: list[str]) -> None:
    assert [item.name for item in evidence_in_text(source, "f.py")] == names


def test_project_evidence_skips_environments(tmp_path: Path) -> None:
    venv = tmp_path / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "old.py").write_text(TWO_X)
    other = tmp_path / "env2"
    other.mkdir()
    (other / "pyvenv.cfg").write_text("")
    (other / "old.py").write_text(TWO_X)
    assert project_evidence(str(tmp_path)) == []
    (tmp_path / "deploy.py").write_text(TWO_X)
    found = project_evidence(str(tmp_path))
    assert [(Path(e.path).name, e.line) for e in found] == [("deploy.py", 1)]


def test_a_root_without_marker_is_its_scripts_and_packages(tmp_path: Path) -> None:
    """A script in /tmp or a home directory must not make every directory beside it part of
    its project: without a marker only the root's own modules and packages are read."""
    stray = tmp_path / "someone_elses_checkout"
    stray.mkdir()
    (stray / "deploy.py").write_text(TWO_X)
    (tmp_path / "script.py").write_text("from prefect import flow\n")
    assert project_evidence(str(tmp_path)) == []
    package = tmp_path / "pipeline"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "deploy.py").write_text(TWO_X)
    assert [Path(e.path).parent.name for e in project_evidence(str(tmp_path))] == ["pipeline"]
    (tmp_path / "pyproject.toml").write_text("")
    assert len(project_evidence(str(tmp_path))) == 2


def test_detect_target_sources(tmp_path: Path) -> None:
    assert detect_target(str(tmp_path), None).default
    (tmp_path / "deploy.py").write_text(TWO_X)
    target = detect_target(str(tmp_path), None)
    assert target.version == "2" and not target.default
    assert "deploy.py:1 uses `prefect.deployments.Deployment`" in target.source
    # A pin wins over the code, and the contradiction is reported.
    (tmp_path / "requirements.txt").write_text("prefect>=3.1\n")
    pinned = detect_target(str(tmp_path), None)
    assert pinned.version == "3.1" and not pinned.evidence
    assert [e.name for e in conflict(pinned, str(tmp_path))] == ["prefect.deployments.Deployment"]
    # A setting wins over everything.
    assert detect_target(str(tmp_path), "3.4").version == "3.4"


def test_text_evidence_only_refines_an_undecided_target() -> None:
    assert with_text_evidence(LATEST, TWO_X, "-").version == "2"
    assert with_text_evidence(LATEST, "from prefect import flow\n", "-") is LATEST
    pinned = Target("3.4", "pin")
    assert with_text_evidence(pinned, TWO_X, "-") is pinned


SYNC_FLOW_ASYNC_TASK = """\
from prefect import flow, task, wait


@task
async def fetch() -> int:
    return 1


@flow
def etl() -> None:
    fetch()
"""


def test_engine_enforces_rule_versions() -> None:
    on_3 = {d.code for d in check_source(SYNC_FLOW_ASYNC_TASK, "f.py", ALL, target=LATEST)}
    assert {"PFL105", "PFL107"} <= on_3
    on_2 = {
        d.code for d in check_source(SYNC_FLOW_ASYNC_TASK, "f.py", ALL, target=Target("2", "x"))
    }
    assert not {"PFL105", "PFL107"} & on_2
    fixed = fix_source(SYNC_FLOW_ASYNC_TASK, "f.py", ALL, target=Target("2.20", "x"))
    assert fixed.text == SYNC_FLOW_ASYNC_TASK


def test_engine_drops_fixes_outside_their_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from prefect_lint.rules.futures.wait_import import WaitImport

    meta = WaitImport.meta
    assert meta.fix is not None
    narrower = replace(meta, fix=replace(meta.fix, versions=since("3.5")))
    monkeypatch.setattr(WaitImport, "meta", narrower)
    found = check_source(SYNC_FLOW_ASYNC_TASK, "f.py", ALL, target=Target("3.4", "x"))
    pfl105 = [d for d in found if d.code == "PFL105"]
    assert pfl105 and not any(d.fixable for d in pfl105)
    found = check_source(SYNC_FLOW_ASYNC_TASK, "f.py", ALL, target=Target("3.5", "x"))
    assert all(d.fixable for d in found if d.code == "PFL105")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.meta.code)
def test_versions_section_states_the_metadata(rule: type) -> None:
    meta = rule.meta
    rendered = meta.render_docs()
    section = rendered.split("## Versions\n", 1)[1]
    assert section.startswith(meta.versions_line())
    assert meta.versions.describe() in section
    if meta.fix is not None:
        assert meta.effective_fix_versions.describe() in section


@pytest.mark.parametrize("requirement", ["prefect\n", "prefect<4\n", "prefect[aws]\n"])
def test_a_requirement_without_lower_bound_lets_the_code_decide(
    tmp_path: Path, requirement: str
) -> None:
    (tmp_path / "requirements.txt").write_text(requirement)
    undecided = detect_target(str(tmp_path), None)
    assert undecided.default and "without a lower bound" in undecided.source
    (tmp_path / "deploy.py").write_text(TWO_X)
    assert detect_target(str(tmp_path), None).version == "2"
