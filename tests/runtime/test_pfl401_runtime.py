"""PFL401 run-context-at-import: runtime proof under real Prefect.

* `get_run_logger()` at module level: the import itself raises `MissingContextError`.
* `Variable.get()` at module level, imported from async code (an event loop is running):
  the name holds an un-awaited coroutine and Python warns that it was never awaited.
* Taken inside the flow, both work.
"""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

pytest.importorskip("prefect")

pytestmark = pytest.mark.runtime


def test_run_logger_at_import_fails_the_import(prefect_runtime):
    from prefect.exceptions import MissingContextError

    with pytest.raises(MissingContextError, match="There is no active flow or task run context"):
        prefect_runtime.load("PFL401/runtime_logger.py")


def test_variable_get_at_import_from_async_code_is_a_coroutine(prefect_runtime):
    # Imported synchronously, the API is called and the default comes back.
    module = prefect_runtime.load("PFL401/runtime_variable.py")
    assert module.THRESHOLD == 10

    async def import_in_loop():
        return prefect_runtime.load("PFL401/runtime_variable.py")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = asyncio.run(import_in_loop())
        assert asyncio.iscoroutine(module.THRESHOLD)
        assert module.THRESHOLD.__qualname__ == "Variable.aget"
        del module.THRESHOLD
        gc.collect()
    assert any(
        issubclass(w.category, RuntimeWarning)
        and "coroutine 'Variable.aget' was never awaited" in str(w.message)
        for w in caught
    ), [str(w.message) for w in caught]


def test_inside_the_flow_it_imports_and_runs(prefect_runtime):
    module = prefect_runtime.load("PFL401/ok_runtime_logger.py")
    state = module.pfl401_parent(return_state=True)
    assert state.is_completed(), state
    assert state.result() == "done"
