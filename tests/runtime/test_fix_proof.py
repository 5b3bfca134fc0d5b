"""Fix proof: every fix shape runs on real Prefect before and after `--fix --unsafe-fixes`.

One table, one row per fix shape (rule, branch of its rewrite: sync and async flows, loops,
comprehensions, early returns, containers). Each row names a fixture flow and the outcome
expected from the file as written and from its golden `.fixed.py` (the fixer's exact output,
checked by tests/test_fixtures.py): the final state, the returned value or the exception,
and which task bodies ran (the fixtures' tasks append to a module-level `RAN` list).
So a row proves both halves of "a fix never changes what working code does": what failed or
was lost now works, and what worked returns the same value. Rows with `after=None` are
shapes where no fix is offered (the golden must leave them alone); they prove the flagged
or silent code's claim.

PFL106 (needs a served deployment) and the PFL2xx runner switches (need process pools) are
proven the same way in test_pfl106_runtime.py and test_process_boundary_runtime.py; the
rows here run in this process, in one Prefect session, a second or two each.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("prefect")

from tests.fixture_files import FIXTURES, golden_path

pytestmark = pytest.mark.runtime

COMPLETED, FAILED, UNLOADABLE = "COMPLETED", "FAILED", "UNLOADABLE"


@dataclass(frozen=True)
class Outcome:
    state: str  # COMPLETED, FAILED, or UNLOADABLE (the module does not import)
    value: Any  # the returned value, or "ExceptionType: message"
    # Sorted entries of the module's RAN list; None: not compared exactly (see `lost`).
    ran: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Case:
    fixture: str  # path under fixtures/, without `.py`
    flow: str
    before: Outcome
    after: Outcome | None  # None: no fix is offered for this flow
    args: tuple[Any, ...] = ()
    # Task bodies that never run before the fix (cancelled with the flow) and do after.
    lost: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.fixture}::{self.flow}{list(self.args) if self.args else ''}"


def ok(value: Any, *ran: str) -> Outcome:
    return Outcome(COMPLETED, value, tuple(sorted(ran)))


def fails(error: str, *ran: str) -> Outcome:
    return Outcome(FAILED, error, tuple(sorted(ran)))


def done(value: Any) -> Outcome:
    """Completed with `value`; which tasks ran is up to the case's `lost`."""
    return Outcome(COMPLETED, value)


def broken(error: str) -> Outcome:
    """Failed with `error`; submitted tasks may or may not have run by then."""
    return Outcome(FAILED, error)


NOT_SUBSCRIPTABLE = "TypeError: 'PrefectConcurrentFuture' object is not subscriptable"
NOT_ITERABLE = "TypeError: 'PrefectConcurrentFuture' object is not iterable"
COROUTINE = "<un-run coroutine>"
NO_IS_COMPLETED = "AttributeError: 'coroutine' object has no attribute 'is_completed'"

CASES = [
    # -- PFL102 unwaited-future: `add` waits for a 1 s input and is cancelled at the flow's
    # end unless the fix waits; every flow keeps its return value.
    Case("PFL102/proof_shapes", "named", done("named"), done("named"), lost=("add 1+1",)),
    Case(
        "PFL102/proof_shapes",
        "early_return",
        done("early"),
        done("early"),
        args=(True,),
        lost=("add 2+1",),
    ),
    Case(
        "PFL102/proof_shapes",
        "early_return",
        done("late"),
        done("late"),
        args=(False,),
        lost=("add 2+1",),
    ),
    Case(
        "PFL102/proof_shapes", "mapped", done("mapped"), done("mapped"), lost=("add 1+3", "add 2+3")
    ),
    Case(
        "PFL102/proof_shapes",
        "bare",
        done(None),
        done(None),
        lost=("add 4+1", "add 2+4", "add 3+4"),
    ),
    Case("PFL102/proof_shapes", "in_a_list", done(2), done(2), lost=("add 5+1", "add 5+2")),
    Case("PFL102/proof_shapes", "in_a_dict_view", done(["x"]), done(["x"]), lost=("add 8+1",)),
    Case(
        "PFL102/proof_shapes",
        "in_a_loop",
        done(2),
        done(2),
        args=([1, 2],),
        lost=("add 9+1", "add 9+2"),
    ),
    Case("PFL102/proof_shapes", "async_named", done("async"), done("async"), lost=("add 6+1",)),
    Case(
        "PFL102/proof_shapes",
        "async_mapped",
        done("async mapped"),
        done("async mapped"),
        lost=("add 1+7", "add 2+7"),
    ),
    # -- PFL103 serial-result (unsafe: concurrency changes, values do not)
    Case(
        "PFL103/proof_shapes",
        "comprehension",
        ok([1, 4, 9], "sq 1", "sq 2", "sq 3"),
        ok([1, 4, 9], "sq 1", "sq 2", "sq 3"),
        args=([1, 2, 3],),
    ),
    Case(
        "PFL103/proof_shapes",
        "append_loop",
        ok([0, 1, 4], "sq 1", "sq 2"),
        ok([0, 1, 4], "sq 1", "sq 2"),
        args=([1, 2],),
    ),
    Case(
        "PFL103/proof_shapes",
        "wait_loop",
        ok(10000, "sq 100", "sq 3", "sq 4"),
        ok(10000, "sq 100", "sq 3", "sq 4"),
        args=([3, 4],),
    ),
    Case(
        "PFL103/runtime_serial",
        "parent",
        Outcome(COMPLETED, [0, 1, 4]),
        Outcome(COMPLETED, [0, 1, 4]),
    ),
    # -- PFL104 call-not-future
    Case(
        "PFL104/runtime_direct",
        "parent",
        broken("AttributeError: 'int' object has no attribute 'result'"),
        ok(30),
    ),
    Case(
        "PFL104/in_loops",
        "chained",
        broken("AttributeError: 'int' object has no attribute 'result'"),
        ok(3),
        args=([1, 2],),
    ),
    Case(
        "PFL104/in_loops",
        "comprehension",
        broken("AttributeError: 'int' object has no attribute 'result'"),
        None,
        args=([1, 2],),
    ),
    # -- PFL105 wait-import
    Case(
        "PFL105/import_wait",
        "parent",
        Outcome(UNLOADABLE, "ImportError: cannot import name 'wait' from 'prefect'"),
        ok([0, 1, 4]),
    ),
    Case(
        "PFL105/import_as_completed",
        "parent",
        Outcome(UNLOADABLE, "ImportError: cannot import name 'as_completed' from 'prefect'"),
        ok([0, 1, 4]),
    ),
    Case("PFL105/not_imported", "parent", fails("NameError: name 'wait' is not defined"), ok(None)),
    Case(
        "PFL105/parenthesized_comments",
        "parent",
        Outcome(UNLOADABLE, "ImportError: cannot import name 'wait' from 'prefect'"),
        ok(None),
    ),
    # -- PFL107 async-task-direct-call: the coroutine never ran; now the task runs and the
    # caller gets its value, or with return_state=True its State (even a failed one).
    Case("PFL107/proof_shapes", "value", ok(COROUTINE), ok(10, "fetch 1")),
    Case("PFL107/proof_shapes", "state", fails(NO_IS_COMPLETED), ok(True, "fetch 2")),
    Case(
        "PFL107/proof_shapes",
        "failed_state",
        fails("AttributeError: 'coroutine' object has no attribute 'type'"),
        ok("FAILED", "boom"),
    ),
    Case(
        "PFL107/proof_shapes",
        "dependent_loop",
        fails("TypeError: unsupported operand type(s) for +: 'int' and 'coroutine'"),
        ok(120, "fetch 1", "fetch 12"),
        args=([1, 2],),
    ),
    Case("PFL107/shapes", "in_a_loop", ok(None), None, args=([1, 2],)),
    # -- PFL108 future-as-value
    Case("PFL108/proof_shapes", "subscript", broken(NOT_SUBSCRIPTABLE), ok(1, "load 1")),
    Case(
        "PFL108/proof_shapes",
        "method",
        broken("AttributeError: 'PrefectConcurrentFuture' object has no attribute 'get'"),
        ok(2, "load 2"),
    ),
    Case(
        "PFL108/proof_shapes",
        "mapped_elements",
        broken(NOT_SUBSCRIPTABLE),
        ok([3, 4], "load 3", "load 4"),
    ),
    Case("PFL108/proof_shapes", "iterated", broken(NOT_ITERABLE), ok(["rows"], "load 5")),
    Case("PFL108/proof_shapes", "by_key", broken(NOT_SUBSCRIPTABLE), ok(6, "load 6")),
    Case(
        "PFL108/proof_shapes", "by_pair", broken(NOT_SUBSCRIPTABLE), ok([7, 8], "load 7", "load 8")
    ),
    Case(
        "PFL108/proof_shapes",
        "by_value",
        broken(NOT_SUBSCRIPTABLE),
        ok([9, 10], "load 10", "load 9"),
    ),
    Case("PFL108/runtime_value", "parent", broken(NOT_SUBSCRIPTABLE), ok(3)),
    # async flows: the value is awaited from a worker thread
    Case("PFL108/async_flows", "subscript", broken(NOT_SUBSCRIPTABLE), Outcome(COMPLETED, 1)),
    Case(
        "PFL108/async_flows",
        "mapped_elements",
        broken(NOT_SUBSCRIPTABLE),
        Outcome(COMPLETED, [2, 3]),
    ),
    Case("PFL108/async_flows", "in_a_generator", broken(NOT_SUBSCRIPTABLE), None),
    # States and containers the analysis once took for futures: silent, and they work.
    Case("PFL108/ok_return_state", "mapped_states", Outcome(COMPLETED, [5, 6]), None),
    Case("PFL108/ok_return_state", "submitted_state", Outcome(COMPLETED, 2), None),
    Case(
        "PFL108/ok_return_state",
        "states_in_a_dict",
        Outcome(COMPLETED, {"a": True, "b": True}),
        None,
    ),
    Case(
        "PFL108/ok_containers",
        "map_in_dict",
        Outcome(COMPLETED, {"d": [2, 4], "t": [6, 8]}),
        None,
    ),
    Case("PFL108/ok_containers", "map_in_dict_values", Outcome(COMPLETED, [2, 4]), None),
    Case("PFL108/ok_containers", "keys_are_not_futures", Outcome(COMPLETED, ["D", "d2"]), None),
    Case("PFL108/ok_containers", "pairs_in_a_list", Outcome(COMPLETED, [7, 7]), None),
    # -- PFL109 wait-not-list
    Case("PFL109/runtime_single", "parent", broken(NOT_ITERABLE), ok(None)),
]


def _error(exc: BaseException) -> str:
    # ImportError names the package's path: keep the part that does not vary.
    return re.sub(r" \(/[^)]*\)$", "", f"{type(exc).__name__}: {exc}")


def _value(value: Any) -> Any:
    if inspect.iscoroutine(value):
        value.close()  # never awaited by the flow: no "was never awaited" warning
        return COROUTINE
    return value


def run_case(prefect_runtime: Any, relpath: str, case: Case) -> tuple[Outcome, tuple[str, ...]]:
    """Load `relpath` fresh, run the case's flow, and report its outcome and RAN log."""
    try:
        module = prefect_runtime.load(relpath)
    except ImportError as exc:
        return Outcome(UNLOADABLE, _error(exc)), ()
    ran: list[str] = getattr(module, "RAN", [])
    ran.clear()
    state = getattr(module, case.flow)(*case.args, return_state=True)
    if inspect.iscoroutine(state):
        state = asyncio.run(state)
    log = tuple(sorted(ran))
    if state.is_completed():
        return Outcome(COMPLETED, _value(state.result()), log), log
    assert state.is_failed(), state
    error = state.result(raise_on_failure=False)
    assert isinstance(error, BaseException), state
    return Outcome(FAILED, _error(error), log), log


def _compare(actual: Outcome, expected: Outcome) -> None:
    assert (actual.state, actual.value) == (expected.state, expected.value)
    if expected.ran is not None:
        assert actual.ran == expected.ran


@pytest.mark.filterwarnings("ignore:coroutine 'run_task_async' was never awaited")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fix_keeps_its_promise(prefect_runtime: Any, case: Case) -> None:
    source = FIXTURES / f"{case.fixture}.py"
    golden = golden_path(source)

    before, before_log = run_case(prefect_runtime, f"{case.fixture}.py", case)
    _compare(before, case.before)
    for name in case.lost:
        assert name not in before_log, f"{name} ran before the fix: the case proves nothing"

    if case.after is None:
        # No fix for this flow: the golden (if the file has other fixes) leaves it as is.
        if golden.exists():
            after, _ = run_case(prefect_runtime, golden.relative_to(FIXTURES).as_posix(), case)
            _compare(after, case.before)
        return
    assert golden.exists(), f"{golden.name}: the fixer offers no fix for {case.id}"
    after, after_log = run_case(prefect_runtime, golden.relative_to(FIXTURES).as_posix(), case)
    _compare(after, case.after)
    for name in case.lost:
        assert name in after_log, f"{name} still lost after the fix: {after_log}"


def test_every_fix_proof_fixture_flow_has_a_row() -> None:
    """Each flow of a `proof_*` fixture is in the table (a new shape cannot go unproven)."""
    rows = {(case.fixture, case.flow) for case in CASES}
    for path in sorted(FIXTURES.glob("PFL*/proof_*.py")):
        if path.name.endswith(".fixed.py"):
            continue
        fixture = path.relative_to(FIXTURES).with_suffix("").as_posix()
        flows = re.findall(r"^@flow\n(?:async )?def (\w+)", path.read_text(), re.M)
        assert flows, path
        assert {(fixture, flow) for flow in flows} <= rows, fixture


# -- PFL102 in async flows: the wait must not block the event loop -------------------------


def _peak_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize(
    ("relpath", "flow_name", "peak"),
    [
        # the fix: `await asyncio.to_thread(wait, [...])` keeps the gathered subflows going
        # (at least two of the three at once)
        ("PFL102/runtime_async_gather.fixed.py", "parent", 2),
        # a plain `wait([...])` (the old fix) blocks the event loop: one subflow at a time
        ("PFL102/runtime_async_gather.fixed.py", "parent_blocking", 1),
    ],
    ids=["to_thread", "blocking"],
)
def test_async_flow_wait_keeps_gathered_subflows_overlapping(
    prefect_runtime: Any, relpath: str, flow_name: str, peak: int
) -> None:
    module = prefect_runtime.load(relpath)
    module.SPANS.clear()
    started = time.monotonic()
    state = asyncio.run(getattr(module, flow_name)(return_state=True))
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    assert sorted(state.result()) == [0, 1, 2]
    spans = list(module.SPANS)
    assert len(spans) == 3, spans
    assert all(end - start >= module.TASK_SECONDS - 0.05 for start, end in spans), spans
    timeline = [(round(s - started, 1), round(e - started, 1)) for s, e in sorted(spans)]
    if peak == 1:
        # each subflow's task started only once the previous one had finished
        assert _peak_overlap(spans) == 1, (elapsed, timeline)
    else:
        # Overlapping; not always all three: on the SQLite test server concurrent subflow
        # creations are retried after ~2 s, ~4 s (see test_pfl101_runtime.py).
        assert _peak_overlap(spans) >= peak, (elapsed, timeline)
