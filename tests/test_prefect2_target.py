"""End to end: a project whose code is Prefect 2 gets no 3.x-only rule and no 3.x-only fix.

What is 3.x-only comes from the 2.20.17 runs in tests/runtime/test_prefect2_rules.py: there
`from prefect.futures import wait` is an ImportError (PFL105's and PFL102's fixes would write
it), an async task called directly from a sync flow runs (PFL107 is false), and flows wait for
their futures (PFL102 is false). PFL101 and PFL104 hold on 2.x and still report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

CODE_2X = """\
from prefect import flow, task
from prefect import wait
from prefect.deployments import Deployment


@task
async def notify(channel: str) -> str:
    return channel


@task
def square(n: int) -> int:
    return n * n


@flow
def child(n: int) -> int:
    return n


@flow
def parent() -> int:
    notify("ops")
    square.submit(1)
    value = square(2)
    child.submit(3)
    return value.result()


if __name__ == "__main__":
    Deployment.build_from_flow(parent, name="nightly")
"""
THREE_X_ONLY = ("PFL102", "PFL105", "PFL107")


def _project(tmp_path: Path, pin: str | None) -> Path:
    (tmp_path / "flows.py").write_text(CODE_2X)
    if pin is not None:
        (tmp_path / "requirements.txt").write_text(f"{pin}\n")
    return tmp_path


def _codes(stdout: str) -> set[str]:
    return {line.split(": ")[1].split()[0] for line in stdout.splitlines() if ": PFL" in line}


@pytest.mark.parametrize("pin", [None, "prefect==2.20.17", "prefect<3"])
def test_prefect_2_project_gets_no_3x_only_rule_or_fix(tmp_path: Path, pin: str | None) -> None:
    root = _project(tmp_path, pin)

    checked = run_cli("check", "--output-format", "concise", ".", cwd=root)
    codes = _codes(checked.stdout)
    assert not codes & set(THREE_X_ONLY), checked.stdout
    # Rules proven on 2.20 still report: `.submit()` on a flow, `.result()` on a value.
    assert {"PFL101", "PFL104"} <= codes, checked.stdout

    fixed = run_cli("check", "--fix", "--unsafe-fixes", ".", cwd=root)
    assert fixed.returncode in (0, 1), fixed.stderr
    text = (root / "flows.py").read_text()
    assert "prefect.futures" not in text
    assert "from prefect import wait" in text
    assert 'notify("ops")\n' in text  # PFL107's fix not written
    # The 2.x-true fixes were: PFL101 (task(child).submit) and PFL104 (square.submit(2)).
    assert "task(child).submit(3)" in text and "value = square.submit(2)" in text


def test_show_settings_names_the_evidence(tmp_path: Path) -> None:
    root = _project(tmp_path, None)
    shown = run_cli("check", "--show-settings", cwd=root).stdout
    target = next(line for line in shown.splitlines() if line.startswith("target prefect:"))
    assert "2.x" in target and "flows.py:3" in target, shown
    assert "prefect.deployments.Deployment" in target, shown


def test_show_settings_names_a_2x_pin(tmp_path: Path) -> None:
    root = _project(tmp_path, "prefect==2.20.17")
    shown = run_cli("check", "--show-settings", cwd=root).stdout
    target = next(line for line in shown.splitlines() if line.startswith("target prefect:"))
    assert target.startswith("target prefect:   2.20 (") and "prefect pin" in target, shown


def test_the_same_code_targeting_3x_gets_them(tmp_path: Path) -> None:
    # The contrast that makes the tests above meaningful: nothing else silences these rules.
    root = _project(tmp_path, None)
    checked = run_cli(
        "check", "--output-format", "concise", "--target-version", "3.9", ".", cwd=root
    )
    assert set(THREE_X_ONLY) <= _codes(checked.stdout), checked.stdout


ASYNC_FLOW = """\
from prefect import flow, task


@task
def fetch(n: int) -> int:
    return n


@flow
async def parent() -> int:
    first = fetch(1)
    stats = fetch.submit(2)
    return first.result() + stats["rows"]
"""


@pytest.mark.parametrize(("target", "reported"), [("2.20", False), ("3.9", True)])
def test_async_flows_are_3x_only_for_the_future_rules(
    tmp_path: Path, target: str, reported: bool
) -> None:
    # On 2.x an async flow's futures depend on the task (coroutines for async tasks): PFL104
    # and PFL108 are proven for sync flows only, so they stay silent here on 2.x.
    (tmp_path / "flows.py").write_text(ASYNC_FLOW)
    checked = run_cli(
        "check", "--output-format", "concise", "--target-version", target, ".", cwd=tmp_path
    )
    codes = _codes(checked.stdout)
    assert ({"PFL104", "PFL108"} <= codes) is reported, checked.stdout
    if not reported:
        assert not codes & {"PFL104", "PFL108"}, checked.stdout
