"""The PFL3xx family: the table's invariants, compatibility code, version gating and the
upgrade recipe through the CLI (check, then --fix, then what is left by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import libcst as cst
import pytest

from prefect_lint.config import all_codes
from prefect_lint.engine.checker import check_source
from prefect_lint.model.migration import MOVED_NAMES, Change, moved_name
from prefect_lint.model.target import Target
from prefect_lint.rules.migration.shared import in_compat_code
from prefect_lint.versions import PREFECT_3
from tests.helpers import run_cli

ALL = frozenset(all_codes())


@pytest.mark.parametrize("row", MOVED_NAMES, ids=lambda row: row.old)
def test_row_is_consistent(row) -> None:  # type: ignore[no-untyped-def]
    assert row.old.startswith("prefect.")
    if row.change is Change.REMOVED:
        # What Python prints: `Type: message`.
        assert row.error.split(":", 1)[0].endswith("Error") and not row.silent
    else:
        assert row.new is not None, "a deprecated row is a rename"
        assert row.silent or row.error.startswith("DeprecationWarning: ")
    if row.marks_2x:
        # A 2.x-only name is gone from every 3.x release and existed in 2.x.
        assert row.versions == PREFECT_3
        assert row.change is Change.REMOVED
    if row.module:
        assert row.new is None
    assert moved_name(row.old) is row


def test_rows_are_unique_and_cover_members() -> None:
    assert len({row.old for row in MOVED_NAMES}) == len(MOVED_NAMES)
    assert moved_name("prefect.orion.schemas.schedules.IntervalSchedule").old == "prefect.orion"
    assert moved_name("prefect.infrastructure.provisioners") is None  # still in 3.x
    assert moved_name("prefect.deployments.run_deployment") is None


def _compat(source: str, marker: str) -> bool:
    module = cst.parse_module(source)
    found: list[bool] = []

    def walk(node: cst.CSTNode, path: list[cst.CSTNode]) -> None:
        if isinstance(node, cst.ImportFrom) and marker in module.code_for_node(node):
            found.append(in_compat_code(path))
        for child in node.children:
            walk(child, [*path, node])

    walk(module, [])
    assert found
    return found[0]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("try:\n    from prefect.old import X\nexcept ImportError:\n    X = None\n", True),
        ("try:\n    import y\nexcept ImportError:\n    from prefect.old import X\n", True),
        (
            "try:\n    from prefect.old import X\nexcept (KeyError, AttributeError):\n    pass\n",
            True,
        ),
        ("try:\n    from prefect.old import X\nexcept KeyError:\n    pass\n", False),
        (
            "try:\n    pass\nexcept ImportError:\n    pass\nelse:\n    from prefect.old import X\n",
            False,
        ),
        ("if PREFECT_VERSION < 3:\n    from prefect.old import X\n", True),
        (
            "if prefect.__version__.startswith('2'):\n    pass\n"
            "else:\n    from prefect.old import X\n",
            True,
        ),
        ("if DEBUG:\n    from prefect.old import X\n", False),
        ("def f():\n    from prefect.old import X\n", False),
    ],
)
def test_compatibility_code(source: str, expected: bool) -> None:
    assert _compat(source, "prefect.old") is expected


_SOURCE = """\
from prefect import flow
from prefect.blocks.system import JSON
from prefect.task_runners import ConcurrentTaskRunner, SequentialTaskRunner


@flow(task_runner=ConcurrentTaskRunner())
def etl() -> None:
    print(JSON, SequentialTaskRunner)


if __name__ == "__main__":
    etl.serve(name="x", schedule=None)
"""


@pytest.mark.parametrize(
    ("version", "codes"),
    [
        ("2", []),
        ("3.0", ["PFL301", "PFL302", "PFL311"]),
        ("3.1", ["PFL301", "PFL302", "PFL311"]),
        ("3.4", ["PFL301", "PFL311"]),
        ("3.5", ["PFL301", "PFL301", "PFL311"]),
    ],
)
def test_rows_report_only_where_they_fail(version: str, codes: list[str]) -> None:
    target = Target(version, "test")
    found = check_source(_SOURCE, "etl.py", ALL, target=target)
    assert sorted(d.code for d in found if d.code.startswith("PFL3")) == sorted(codes)


_PROJECT_CODE = """\
from prefect import flow, task
from prefect.deployments import Deployment
from prefect.engine import pause_flow_run
from prefect.task_runners import ConcurrentTaskRunner


@task
async def fetch(n: int) -> int:
    return n


@flow(task_runner=ConcurrentTaskRunner())
async def etl() -> int:
    future = await fetch.submit(1)
    pause_flow_run(timeout=1)
    return future.result()


if __name__ == "__main__":
    Deployment.build_from_flow(etl, name="nightly").apply()
"""


def test_upgrade_recipe_on_a_prefect_2_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "old"\nversion = "0"\ndependencies = ["prefect==2.20.17"]\n'
    )
    path = tmp_path / "etl.py"
    path.write_text(_PROJECT_CODE)
    # Against its own 2.x pin: nothing to say.
    assert run_cli("check", "--select", "PFL3", ".", cwd=tmp_path).returncode == 0
    # 1. The upgrade check.
    checked = run_cli(
        "check",
        "--target-version",
        "3.9",
        "--select",
        "PFL3",
        "--output-format",
        "json",
        ".",
        cwd=tmp_path,
    )
    assert checked.returncode == 1
    codes = sorted(d["code"] for d in json.loads(checked.stdout))
    assert codes == ["PFL301", "PFL302", "PFL311", "PFL311"]
    # 2. --fix rewrites what is mechanical; 3. what is left is named.
    fixed = run_cli(
        "check", "--target-version", "3.9", "--select", "PFL3", "--fix", ".", cwd=tmp_path
    )
    assert fixed.returncode == 1
    assert "PFL301" in fixed.stdout and "prefect.deployments.Deployment" in fixed.stdout
    assert "flow.deploy()" in fixed.stdout
    text = path.read_text()
    assert "from prefect.flow_runs import pause_flow_run" in text
    assert "from prefect.engine" not in text
    assert "ThreadPoolTaskRunner()" in text and "ConcurrentTaskRunner" not in text
    assert "future = fetch.submit(1)" in text
    again = run_cli(
        "check",
        "--target-version",
        "3.9",
        "--select",
        "PFL3",
        "--output-format",
        "json",
        ".",
        cwd=tmp_path,
    )
    assert [d["code"] for d in json.loads(again.stdout)] == ["PFL301"]
