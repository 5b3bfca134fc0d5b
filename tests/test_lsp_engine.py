"""The language server's engine side, without a client: the check set-up, the cached Prefect
target, and stopping a check whose document changed (end to end: tests/test_lsp.py)."""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_lint.diagnostics import Diagnostic
from prefect_lint.engine import analysis, checker
from prefect_lint.frontends.lsp import engine as engine_module
from prefect_lint.frontends.lsp.engine import Engine, GuardedIndex, Interrupts, Superseded
from prefect_lint.frontends.lsp.process import CANCEL_SIGNAL, Cancelled, EngineProcess
from prefect_lint.model.project import ProjectIndex
from prefect_lint.rule_codes import SYNTAX_ERROR
from prefect_lint.rules.base import SyntaxErrorRule

STEPS = "from prefect import flow\n\n\n@flow\ndef child(n: int) -> int:\n    return n\n"
FLOWS = (
    "from prefect import flow\n\n"
    "from steps import child\n\n\n"
    "@flow\n"
    "def parent() -> None:\n"
    "    child.submit(1)\n"
)

WITH_WAIT = FLOWS.replace("import flow\n", "import flow, wait\n", 1)


def _project(root: Path, pin: str | None = "prefect>=3.4") -> Path:
    if pin is not None:
        (root / "pyproject.toml").write_text(f'[project]\nname = "etl"\ndependencies = ["{pin}"]\n')
    (root / "steps.py").write_text(STEPS)
    (root / "flows.py").write_text(FLOWS)
    return root / "flows.py"


def test_the_syntax_error_code_the_server_uses_is_the_rules() -> None:
    assert SyntaxErrorRule.meta.code == SYNTAX_ERROR


def test_every_public_index_method_is_shielded_from_interrupts() -> None:
    """A new ProjectIndex method must be added to GuardedIndex (or this test told why not):
    an interrupt inside it could leave a placeholder in the index's caches."""
    public = {
        name
        for name, member in inspect.getmembers(ProjectIndex, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public
    assert {name for name in public if name not in GuardedIndex.__dict__} == set()


def test_an_interrupt_inside_the_index_waits_until_it_is_left() -> None:
    interrupts = Interrupts()
    interrupts.request()  # not armed: nothing happens
    interrupts.arm()
    with pytest.raises(Superseded), interrupts:
        with interrupts:
            interrupts.request()  # deferred: still inside
        assert interrupts.pending
    assert not interrupts.armed
    interrupts.arm()
    with pytest.raises(Superseded):
        interrupts.request()


def test_the_target_is_detected_once_until_a_pin_changes_or_code_is_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = _project(tmp_path)
    calls: list[str] = []
    detect = engine_module.detect_target

    def counting(root: str, configured: str | None) -> object:
        calls.append(root)
        return detect(root, configured)

    monkeypatch.setattr(engine_module, "detect_target", counting)
    engine = Engine()
    for _ in range(3):
        found, error = engine.check(str(flows), str(tmp_path), FLOWS)
        assert [d.code for d in found] == ["PFL101"] and error is None
    assert len(calls) == 1
    assert engine.targets(str(tmp_path), None).version == "3.4"

    # A new pin (another size and time): detected again on the next request.
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "etl"\ndependencies = ["prefect==2.19.1"]\n'
    )
    assert engine.targets(str(tmp_path), None).version == "2.19"
    assert len(calls) == 2
    # A new requirements file counts too (pyproject.toml still decides, read first).
    (tmp_path / "requirements.txt").write_text("prefect>=3.1\n")
    engine.targets(str(tmp_path), None)
    assert len(calls) == 3
    engine.targets(str(tmp_path), None)
    assert len(calls) == 3
    # A saved module of the project may hold 2.x evidence: forgotten, detected again.
    engine.forget(str(flows))
    engine.targets(str(tmp_path), None)
    assert len(calls) == 4


def test_without_a_pin_saved_2x_code_changes_the_target(tmp_path: Path) -> None:
    flows = _project(tmp_path, pin=None)
    text = WITH_WAIT  # `from prefect import wait` is an error on 3.x only (PFL105)
    engine = Engine()
    assert engine.targets(str(tmp_path), None).major == 3
    assert [d.code for d in engine.check(str(flows), str(tmp_path), text)[0]] == [
        "PFL105",
        "PFL101",
    ]
    (tmp_path / "legacy.py").write_text("from prefect.deployments import Deployment\n")
    assert engine.targets(str(tmp_path), None).major == 3  # not saved through the editor
    engine.forget(str(tmp_path / "legacy.py"))
    assert engine.targets(str(tmp_path), None).version == "2"
    assert [d.code for d in engine.check(str(flows), str(tmp_path), text)[0]] == ["PFL101"]


def test_the_set_up_is_the_same_for_every_call_on_a_document(tmp_path: Path) -> None:
    flows = _project(tmp_path)
    engine = Engine()
    first, _ = engine.setup(str(flows), str(tmp_path), len(FLOWS), FLOWS)
    again, _ = engine.setup(str(flows), str(tmp_path), len(FLOWS), FLOWS)
    assert first is not None and first == again
    assert isinstance(first.index, GuardedIndex)
    assert first.index is engine.index_for(str(tmp_path / "steps.py"), first.decorators)
    untitled, _ = engine.setup(None, str(tmp_path), len(FLOWS), FLOWS)
    assert untitled is not None and untitled.index is None and untitled.path == "-"
    too_big, _ = engine.setup(str(flows), str(tmp_path), 3_000_000, None)
    assert too_big is None
    # The fix loop and the one rendered fix see the project's flow `child`, as `check` does.
    text = FLOWS.replace("import flow\n", "import flow, wait\n", 1)
    found, _ = engine.check(str(flows), str(tmp_path), text)
    assert [d.code for d in found] == ["PFL105", "PFL101"]
    fixed = engine.fix_all(str(flows), str(tmp_path), text)
    assert fixed == FLOWS.replace(
        "import flow\n", "import flow\nfrom prefect.futures import wait\n", 1
    )
    fix = engine.fix_for(str(flows), str(tmp_path), text, "PFL101", found[1].start)
    assert fix is not None and fix.title == found[1].fix_title and fix.edits


def test_a_document_with_findings_is_checked_again_without_the_triggers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = _project(tmp_path)
    engine = Engine()
    asked: list[bool] = []
    check_source = checker.check_source

    def recording(*args: Any, **kwargs: Any) -> list[Diagnostic]:
        asked.append(kwargs["precheck"])
        return check_source(*args, **kwargs)

    monkeypatch.setattr(analysis, "check_source", recording)
    clean = FLOWS.replace("child.submit(1)", "child(1)")
    texts = [WITH_WAIT, WITH_WAIT + "# typed\n", clean, clean + "# typed\n", WITH_WAIT]
    results = [engine.check(str(flows), str(tmp_path), text)[0] for text in texts]
    # Asked again only after a check that found something, and nothing found changes.
    assert asked == [True, False, False, True, True]
    for text, found in zip(texts, results, strict=True):
        fresh, _ = Engine().check(str(flows), str(tmp_path), text)
        assert found == fresh
    assert [d.code for d in results[1]] == ["PFL105", "PFL101"] and not results[3]
    # An untitled buffer has no path to be remembered by: always asked.
    asked.clear()
    for _ in range(2):
        engine.check(None, str(tmp_path), WITH_WAIT)
    assert asked == [True, True]
    # Closing forgets it.
    asked.clear()
    engine.check(str(flows), str(tmp_path), WITH_WAIT)
    engine.close(str(flows))
    engine.check(str(flows), str(tmp_path), WITH_WAIT)
    assert asked == [False, True]


# -- stopping a check in the engine process ---------------------------------------------------

needs_signal = pytest.mark.skipif(CANCEL_SIGNAL is None, reason="no SIGUSR1 on this platform")


@pytest.fixture
def engine_process() -> Iterator[EngineProcess]:
    process = EngineProcess(timeout=120.0)
    process.start()
    yield process
    process.stop()


@needs_signal
def test_a_cancelled_check_stops_and_the_engine_answers_the_same_after(
    engine_process: EngineProcess, tmp_path: Path
) -> None:
    flows = _project(tmp_path)
    args = (str(flows), str(tmp_path))
    expected, _ = engine_process.call_cancellable("flows", "check", *args, FLOWS)
    assert [d.code for d in expected] == ["PFL101"]

    # Far too long to finish before it is cancelled (and it imports the project's steps).
    long = FLOWS + "".join(
        f"\n\n@flow\ndef f{n}() -> None:\n    child.submit({n})\n" for n in range(4000)
    )
    done = threading.Event()

    def cancel_until_done() -> None:
        while not done.wait(0.2):
            engine_process.cancel("flows")

    canceller = threading.Thread(target=cancel_until_done)
    canceller.start()
    try:
        with pytest.raises(Cancelled):
            engine_process.call_cancellable("flows", "check", *args, long)
    finally:
        done.set()
        canceller.join()

    # Cancelled at many points, the project's caches stay sound: the same answer after.
    for delay in (0.0, 0.001, 0.005, 0.01, 0.02, 0.05):
        timer = threading.Timer(delay, engine_process.cancel, args=("flows",))
        timer.start()
        with contextlib.suppress(Cancelled):
            engine_process.call_cancellable("flows", "check", *args, FLOWS + f"x = {delay}\n")
        timer.join()
    assert engine_process.call_cancellable("flows", "check", *args, FLOWS) == (expected, None)
    # Saved with `child` a task now: the submit is fine, but its future is never waited for.
    (tmp_path / "steps.py").write_text(STEPS.replace("flow", "task"))
    engine_process.call("forget", str(tmp_path / "steps.py"))
    found, _ = engine_process.call_cancellable("flows", "check", *args, FLOWS)
    assert [d.code for d in found] == ["PFL102"]


@needs_signal
def test_cancel_stops_only_the_call_of_its_document(
    engine_process: EngineProcess, tmp_path: Path
) -> None:
    flows = _project(tmp_path)
    engine_process.cancel("flows")  # nothing under way: nothing happens
    timer = threading.Timer(0.05, engine_process.cancel, args=("other.py",))
    timer.start()
    found, _ = engine_process.call_cancellable("flows", "check", str(flows), str(tmp_path), FLOWS)
    timer.join()
    assert [d.code for d in found] == ["PFL101"]
    # Calls that are not cancellable (fixes the user asked for) are never stopped.
    timer = threading.Timer(0.05, engine_process.cancel, args=("flows",))
    timer.start()
    fixed = engine_process.call("fix_all", str(flows), str(tmp_path), FLOWS)
    timer.join()
    assert fixed == FLOWS  # nothing safe to fix, and not stopped half-way
