"""Runtime proof for prefect-lint rules: run fixture files under real Prefect.

Every test in this directory runs against ONE temporary Prefect API server
(SQLite, started by ``prefect.testing.utilities.prefect_test_harness``) that
lives for the whole pytest session. ``PREFECT_HOME`` points at a fresh
temporary directory, so these tests never read or write ``~/.prefect``.

The test modules skip themselves (``pytest.importorskip("prefect")``) when
Prefect is not installed; this conftest must therefore import cleanly without
it and only touch Prefect inside fixtures.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "fixtures"

# Isolate Prefect from the user's machine *before* any test module imports it:
# Prefect reads its settings (home directory, profiles, local result storage,
# the SQLite database of the default ephemeral server) when it is imported.
_PREFECT_HOME = tempfile.mkdtemp(prefix="prefect-lint-runtime-home-")
_ENV_OVERRIDES = {
    "PREFECT_HOME": _PREFECT_HOME,
    "PREFECT_PROFILES_PATH": os.path.join(_PREFECT_HOME, "profiles.toml"),
    # no telemetry calls from the test server (and no noisy DNS errors offline)
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
_SAVED_ENV = {key: os.environ.get(key) for key in _ENV_OVERRIDES}
os.environ.update(_ENV_OVERRIDES)

_SERVER_STARTUP_TIMEOUT_S = 120
_module_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "runtime: runs fixture code under real Prefect against a temporary "
        "Prefect server (slow; needs prefect installed)",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    for key, value in _SAVED_ENV.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def prefect_test_server() -> Any:
    """Start the temporary Prefect server once per session (about 8-15 s)."""
    import prefect.settings
    from prefect.testing.utilities import prefect_test_harness

    # Also pin PREFECT_HOME in the active settings, in case something imported
    # Prefect before this conftest set the environment variable.
    with prefect.settings.temporary_settings(
        updates={prefect.settings.PREFECT_HOME: _PREFECT_HOME}
    ):
        home = Path(prefect.settings.PREFECT_HOME.value()).resolve()
        assert home == Path(_PREFECT_HOME).resolve(), home
        with prefect_test_harness(server_startup_timeout=_SERVER_STARTUP_TIMEOUT_S):
            yield prefect.settings.PREFECT_API_URL.value()


class PrefectRuntime:
    """Helpers shared by the runtime tests (exposed as the ``prefect_runtime`` fixture)."""

    fixtures_dir = FIXTURES_DIR

    def __init__(self) -> None:
        self._loaded: list[str] = []

    # -- fixture files -------------------------------------------------------

    def fixture_path(self, relpath: str) -> Path:
        path = FIXTURES_DIR / relpath
        assert path.is_file(), f"missing fixture file {path}"
        return path

    def load(self, relpath: str) -> ModuleType:
        """Import ``fixtures/<relpath>`` under a fresh, unique module name.

        The module is registered in ``sys.modules`` while it executes (as a
        normal import would) and removed again if the import fails.
        """
        path = self.fixture_path(relpath)
        stem = "".join(c if c.isalnum() else "_" for c in f"{path.parent.name}_{path.name}")
        name = f"_pfl_runtime_fixture_{stem}_{next(_module_counter)}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        dont_write_bytecode = sys.dont_write_bytecode
        sys.dont_write_bytecode = True  # no __pycache__ litter under fixtures/
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        finally:
            sys.dont_write_bytecode = dont_write_bytecode
        self._loaded.append(name)
        return module

    def marked_lines(self, relpath: str, code: str) -> list[int]:
        """1-based line numbers whose ``# error: ...`` comment lists ``code``.

        Parsed like ``tests/test_fixtures.py`` does, so ``# error: PFL104, PFL104``
        (two diagnostics on one line) counts once for ``PFL104``.
        """
        from tests.fixture_files import expected_markers

        markers = expected_markers(self.fixture_path(relpath).read_text())
        return sorted({number for number, marked in markers if marked == code})

    @staticmethod
    def raising_lines(exc: BaseException, path: Path) -> list[int]:
        """Line numbers of the traceback frames of ``exc`` that lie in ``path``."""
        lines = []
        tb = exc.__traceback__
        while tb is not None:
            if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
                lines.append(tb.tb_lineno)
            tb = tb.tb_next
        return lines

    def cleanup(self) -> None:
        for name in self._loaded:
            sys.modules.pop(name, None)
        self._loaded.clear()

    # -- the Prefect API -----------------------------------------------------

    @staticmethod
    def client() -> Any:
        import prefect

        return prefect.get_client(sync_client=True)

    def flow_run(self, flow_run_id: Any) -> Any:
        with self.client() as client:
            return client.read_flow_run(flow_run_id)

    def flow_name(self, flow_id: Any) -> str:
        with self.client() as client:
            return client.read_flow(flow_id).name

    def child_flow_runs(self, parent_flow_run_id: Any) -> list[Any]:
        """Flow runs nested under a flow run (subflows), ordered by start time."""
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterParentFlowRunId,
        )

        with self.client() as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_flow_run_id])
                )
            )
        return sorted(runs, key=lambda run: (run.start_time is None, run.start_time))

    def task_runs(self, flow_run_id: Any, expected: int, timeout: float = 30.0) -> list[Any]:
        """Task runs of a flow run, once ``expected`` of them are in a final state.

        Task-run states reach the API through Prefect's event pipeline, a
        moment after the flow returns, so poll instead of reading once.
        """
        from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

        deadline = time.monotonic() + timeout
        while True:
            with self.client() as client:
                runs = client.read_task_runs(
                    task_run_filter=TaskRunFilter(
                        flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run_id])
                    )
                )
            if (
                len(runs) >= expected
                and all(run.state is not None and run.state.is_final() for run in runs)
            ) or time.monotonic() > deadline:
                return runs
            time.sleep(0.2)

    @staticmethod
    def max_concurrency(runs: list[Any]) -> int:
        """Largest number of runs whose [start_time, end_time) intervals overlap."""
        events = []
        for run in runs:
            assert run.start_time is not None and run.end_time is not None, run
            events.append((run.start_time, 1))
            events.append((run.end_time, -1))
        # at equal timestamps, count the end before the start: touching != overlapping
        events.sort(key=lambda event: (event[0], event[1]))
        running = peak = 0
        for _, delta in events:
            running += delta
            peak = max(peak, running)
        return peak

    @staticmethod
    def timeline(runs: list[Any], origin: Any = None) -> str:
        """Human-readable start/end offsets (seconds) for assertion messages."""
        if not runs:
            return "<no runs>"
        origin = origin or min(run.start_time for run in runs if run.start_time)
        parts = []
        for run in runs:
            start = (run.start_time - origin).total_seconds() if run.start_time else None
            end = (run.end_time - origin).total_seconds() if run.end_time else None
            parts.append(f"{run.name}: {run.state_type} {start}..{end}")
        return "; ".join(parts)


@pytest.fixture(scope="session")
def prefect2() -> Any:
    """Runs snippets on real Prefect 2.20 (ephemeral, in-process API; see `prefect2.py`)."""
    from tests.runtime.prefect2 import prefect2_runner

    with prefect2_runner() as runner:
        yield runner


@pytest.fixture(scope="session")
def prefect3(prefect_test_server: str) -> Any:
    """Runs snippets on the test venv's Prefect 3, against the session's test server."""
    from tests.runtime.prefect2 import prefect3_runner

    with prefect3_runner(prefect_test_server, _PREFECT_HOME) as runner:
        yield runner


@pytest.fixture
def prefect_runtime() -> Any:
    runtime = PrefectRuntime()
    yield runtime
    runtime.cleanup()
