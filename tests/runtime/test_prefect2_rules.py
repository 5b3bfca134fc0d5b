"""Every rule's claim, checked on a real Prefect 2.20 run (one test per rule).

For each rule: its documented shape, written as 2.x code, runs on Prefect 2.20.17 and the test
asserts what happens there. Then the linter checks the same text for a 2.20 target: where the
run proves the claim, the rule must report (its `versions` include 2.x) and, where its fix is
offered on 2.x (`FixMeta.versions`), the fixed text must run on 2.20 as the fix promises. Where
the run shows the claim is false on 2.x, or the shape cannot even be written there, the rule
must stay silent and write nothing.

Run: `.venv/bin/python -m pytest -q -m prefect2 tests/runtime/test_prefect2_rules.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import fix_source
from prefect_lint.model.target import Target
from prefect_lint.rules import RULES_BY_CODE
from tests.runtime.prefect2 import SnippetResult

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]

TARGET_2 = Target("2.20", "test: Prefect 2.20")
VERSION_2 = TARGET_2.prefect_version


def _failed_with(message: str) -> Callable[[SnippetResult], None]:
    def check(run: SnippetResult) -> None:
        assert run.ok, run.describe()
        assert run.value == ["FAILED", f"Flow run encountered an exception. {message}"], (
            run.describe()
        )

    return check


def _import_error(text: str) -> Callable[[SnippetResult], None]:
    def check(run: SnippetResult) -> None:
        assert run.raised("ImportError"), run.describe()
        assert text in (run.error_message or ""), run.describe()

    return check


def _value(expected: object) -> Callable[[SnippetResult], None]:
    def check(run: SnippetResult) -> None:
        assert run.ok, run.describe()
        assert run.value == expected, run.describe()

    return check


@dataclass(frozen=True)
class Case:
    code: str
    # 2.x code in the rule's documented shape; the run sets `result`.
    source: str
    # What the run of `source` on 2.20 shows.
    on_2x: Callable[[SnippetResult], None]
    # The claim holds on 2.x: the rule reports `source` for a 2.20 target.
    holds: bool
    # When the fix is offered on 2.x: what the fixed text does on 2.20.
    fixed_on_2x: Callable[[SnippetResult], None] | None = None
    # Text to lint when the run needs a different shape than the documented one.
    lint_source: str | None = None
    # Names the rule's message or fix relies on that 2.20 does not have: (module, names).
    missing: tuple[str, tuple[str, ...]] | None = None


CASES = [
    Case(
        "PFL101",
        """
from prefect import flow

@flow
def child(n: int) -> int:
    return n * 10

@flow
def parent() -> list:
    futures = [child.submit(i) for i in range(3)]
    return [future.result() for future in futures]

state = parent(return_state=True)
result = [state.type.value, state.message]
if state.is_completed():
    result = state.result()
""",
        _failed_with("AttributeError: 'Flow' object has no attribute 'submit'"),
        holds=True,
        # `task(child).submit(i)`: three Completed child flow runs, values returned.
        fixed_on_2x=_value([0, 10, 20]),
    ),
    Case(
        "PFL102",
        """
import time
from prefect import flow, task

@task
def slow(i: int) -> int:
    time.sleep(2)
    print("task done", i, flush=True)
    return i

@flow
def parent() -> None:
    slow.submit(1)
    slow.submit(2)

state = parent(return_state=True)
print("flow returned", flush=True)
result = state.type.value
""",
        # 2.x flows wait for their futures: both tasks finish before the flow returns.
        lambda run: (
            _value("COMPLETED")(run),
            _assert_order(run.stdout, ["task done 1", "flow returned"]),
            _assert_order(run.stdout, ["task done 2", "flow returned"]),
        ),
        holds=False,
    ),
    Case(
        "PFL103",
        """
import time
from prefect import flow, task

spans = []

@task
def slow(i: int) -> int:
    start = time.monotonic()
    time.sleep(1)
    spans.append((start, time.monotonic()))
    return i * i

@flow
def parent() -> list:
    return [slow.submit(i).result() for i in range(3)]

values = parent()
spans.sort()
result = [values, any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))]
""",
        # The three runs never overlap: each `.result()` waits before the next submit.
        _value([[0, 1, 4], False]),
        holds=True,
        # Submitted first, collected after: the runs overlap, the values are the same.
        fixed_on_2x=_value([[0, 1, 4], True]),
    ),
    Case(
        "PFL104",
        """
from prefect import flow, task

@task
def fetch(n: int) -> int:
    return n * 10

@flow
def parent() -> int:
    first = fetch(1)
    second = fetch(2)
    return first.result() + second.result()

state = parent(return_state=True)
result = [state.type.value, state.message]
if state.is_completed():
    result = state.result()
""",
        _failed_with("AttributeError: 'int' object has no attribute 'result'"),
        holds=True,
        fixed_on_2x=_value(30),
    ),
    Case(
        "PFL105",
        """
from prefect import flow, task, wait
""",
        # Neither spelling exists on 2.x: the fix would import a name 2.20 lacks.
        _import_error("cannot import name 'wait' from 'prefect'"),
        holds=False,
        missing=("prefect.futures", ("wait", "as_completed")),
    ),
    Case(
        "PFL106",
        """
import asyncio
import inspect
import time
from prefect import flow, get_client
from prefect.deployments import run_deployment

@flow
def child(region: str) -> str:
    return region

async def make_deployment() -> None:
    async with get_client() as client:
        flow_id = await client.create_flow(child)
        await client.create_deployment(flow_id=flow_id, name="child-deployment")

asyncio.run(make_deployment())
started = time.monotonic()
# No worker runs it: the call waits for the run to finish, so `timeout` is what returns.
run = run_deployment("child/child-deployment", parameters={"region": "eu"}, timeout=3)
waited = time.monotonic() - started
result = [
    waited >= 3,
    run.state.type.value,
    str(inspect.signature(run_deployment).parameters["timeout"]),
]
""",
        _value([True, "SCHEDULED", "timeout: Optional[float] = None"]),
        holds=True,
        missing=("prefect.futures", ("PrefectFlowRunFuture", "wait")),
        lint_source="""
from prefect import flow
from prefect.deployments import run_deployment

@flow
def parent(regions: list) -> None:
    for region in regions:
        run_deployment("child/child-deployment", parameters={"region": region})
""",
    ),
    Case(
        "PFL107",
        """
import asyncio
from prefect import flow, task

@task
async def notify(channel: str) -> str:
    await asyncio.sleep(0.1)
    print("ran", channel, flush=True)
    return f"notified {channel}"

@flow
def parent() -> str:
    message = notify("ops")
    return message

result = parent()
""",
        # False on 2.x: the direct call runs the async task and returns its value.
        lambda run: (_value("notified ops")(run), _assert_order(run.stdout, ["ran ops"])),
        holds=False,
    ),
    Case(
        "PFL108",
        """
from prefect import flow, task

@task
def load() -> dict:
    return {"rows": 3, "columns": 2}

@flow
def parent() -> int:
    stats = load.submit()
    return stats["rows"]

state = parent(return_state=True)
result = [state.type.value, state.message]
if state.is_completed():
    result = state.result()
""",
        _failed_with("TypeError: 'PrefectFuture' object is not subscriptable"),
        holds=True,
        fixed_on_2x=_value(3),
    ),
    Case(
        "PFL109",
        """
from prefect import flow, task
from prefect.futures import wait
""",
        # 2.x has no `prefect.futures.wait`: the shape cannot be written there.
        _import_error("cannot import name 'wait' from 'prefect.futures'"),
        holds=False,
        lint_source="""
from prefect import flow, task
from prefect.futures import wait

@task
def ping() -> str:
    return "pong"

@flow
def parent() -> None:
    future = ping.submit()
    wait(future)
""",
    ),
    *(
        Case(
            code,
            """
from prefect.task_runners import ProcessPoolTaskRunner
""",
            # The process-based runner these rules describe does not exist on 2.x.
            _import_error("cannot import name 'ProcessPoolTaskRunner' from 'prefect.task_runners'"),
            holds=False,
            lint_source=lint,
        )
        for code, lint in (
            (
                "PFL201",
                """
import threading
from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner

@task
def make_lock() -> threading.Lock:
    return threading.Lock()

@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
def parent() -> None:
    make_lock.submit().result()
""",
            ),
            (
                "PFL203",
                """
import threading
from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner

LOCK = threading.Lock()

@task
def use_lock() -> None:
    with LOCK:
        pass

@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
def parent() -> None:
    use_lock.submit().result()
""",
            ),
            (
                "PFL204",
                """
from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner

@task
def square(n: int) -> int:
    return n * n

@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
def parent() -> None:
    square.submit(2).result()

parent()
""",
            ),
        )
    ),
    Case(
        "PFL202",
        """
import sqlite3
from prefect import flow, task
from prefect.task_runners import ConcurrentTaskRunner

@task
def count_rows(conn: sqlite3.Connection) -> int:
    return conn.execute("select count(*) from items").fetchone()[0]

@flow(task_runner=ConcurrentTaskRunner())
def parent() -> int:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("create table items (x)")
    conn.executemany("insert into items values (?)", [(1,), (2,)])
    return count_rows.submit(conn).result()

result = parent()
""",
        # 2.x tasks compute no cache key by default: the connection is not hashed, nothing is
        # logged, the task runs. (`prefect.cache_policies` itself is Prefect 3's.)
        lambda run: (_value(2)(run), _assert_absent(run.stderr, "cache key")),
        holds=False,
        missing=("prefect.cache_policies", ("NO_CACHE",)),
    ),
]


def _assert_order(text: str, lines: list[str]) -> None:
    positions = [text.find(line) for line in lines]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), (lines, text)


def _assert_absent(text: str, needle: str) -> None:
    assert needle not in text, text[-3000:]


def _present(module: str, names: tuple[str, ...]) -> str:
    """A snippet whose `result` lists which of `names` `module` has."""
    return f"""
import importlib
try:
    _module = importlib.import_module({module!r})
except ImportError:
    result = []
else:
    result = [n for n in {names!r} if hasattr(_module, n)]
"""


def _lint(code: str, text: str) -> tuple[list[str], str]:
    diagnostics = check_source(text, "snippet.py", frozenset({code}), target=TARGET_2)
    fixed = fix_source(text, "snippet.py", frozenset({code}), unsafe=True, target=TARGET_2)
    return [d.code for d in diagnostics], fixed.text


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_rule_claim_on_prefect_2(prefect2, case: Case) -> None:
    meta = RULES_BY_CODE[case.code].meta

    run = prefect2.run(case.source)
    case.on_2x(run)
    if case.missing is not None:
        probe = prefect2.run(_present(*case.missing))
        assert probe.ok and probe.value == [], probe.describe()

    # The metadata says what the run shows.
    assert (VERSION_2 in meta.versions) is case.holds, meta.versions
    codes, fixed = _lint(case.code, case.lint_source or case.source)
    if not case.holds:
        assert codes == [], codes
        assert fixed == (case.lint_source or case.source)
        return
    assert codes and set(codes) == {case.code}, codes
    if case.fixed_on_2x is None:
        assert VERSION_2 not in meta.effective_fix_versions
        assert fixed == (case.lint_source or case.source), "a fix was written for 2.x"
        return
    assert VERSION_2 in meta.effective_fix_versions
    assert fixed != case.source, "no fix was written"
    case.fixed_on_2x(prefect2.run(fixed))


def test_every_rule_has_a_prefect_2_case() -> None:
    # The PFL3xx migration family checks code against a 3.x target; its claims are the
    # migration table's rows and call shapes (test_migration_table.py, test_changed_calls.py).
    migration = {code for code in RULES_BY_CODE if code.startswith("PFL3")}
    assert all(VERSION_2 not in RULES_BY_CODE[code].meta.versions for code in migration)
    # A preview rule has not been run on 2.20 yet: until it is (and leaves preview), it must
    # not claim 2.x at all. A stable rule needs its 2.20 case.
    preview = {code for code, rule in RULES_BY_CODE.items() if rule.meta.preview}
    assert all(VERSION_2 not in RULES_BY_CODE[code].meta.versions for code in preview)
    assert sorted(case.code for case in CASES) == sorted(
        code
        for code in RULES_BY_CODE
        if code != "PFL000" and code not in migration and code not in preview
    )
