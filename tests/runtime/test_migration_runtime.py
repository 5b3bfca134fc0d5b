"""PFL301 / PFL302 / PFL311: the flagged code fails (or warns) on real Prefect 3, and the
code `--fix` wrote imports and runs, with the same results the Prefect 2 code had.
"""

from __future__ import annotations

import asyncio
import warnings

import pytest

pytest.importorskip("prefect")

import prefect

pytestmark = pytest.mark.runtime


# -- PFL301 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["PFL301/moved", "PFL301/imports", "PFL301/attributes"])
def test_removed_names_fail_at_import(prefect_runtime, stem):
    with pytest.raises((ImportError, AttributeError)):
        prefect_runtime.load(f"{stem}.py")


def test_moved_names_fixed_import_and_run(prefect_runtime):
    module = prefect_runtime.load("PFL301/moved.fixed.py")
    from prefect.deployments import run_deployment
    from prefect.docker import DockerImage

    assert module.DockerImage is DockerImage
    assert module.run_deployment is run_deployment
    state = module.etl(return_state=True)
    assert state.is_completed(), state
    assert state.result() == "DockerImage"


# -- PFL311 ---------------------------------------------------------------------------------


def _deprecations(load) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = load()
    found = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    return module, [m for m in found if "has been moved to" in m]


def test_deprecated_names_warn_and_fixed_code_does_not(prefect_runtime):
    original, before = _deprecations(lambda: prefect_runtime.load("PFL311/renames.py"))
    assert any("'prefect.client:get_client' has been moved" in m for m in before), before
    # What the shimmed spelling does today, to compare the fixed code with.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        original_state = original.etl(return_state=True)
        original_setting = original.settings()
    module, after = _deprecations(lambda: prefect_runtime.load("PFL311/renames.fixed.py"))
    assert after == []

    from prefect.flows import load_flow_from_flow_run
    from prefect.task_runners import ThreadPoolTaskRunner

    assert module.get_client is prefect.get_client
    assert module.load_flow_from_flow_run is load_flow_from_flow_run
    assert isinstance(module.etl.task_runner, ThreadPoolTaskRunner)
    # The same flow states and results as the shimmed Prefect 2 spelling.
    state = module.etl(return_state=True)
    assert state.is_completed() and original_state.is_completed()
    assert state.result() == original_state.result() == [0, 2, 4]
    assert type(module.etl.task_runner) is type(original.etl.task_runner)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert module.settings() == original_setting == "fallback"
    assert not [w for w in caught if "has been moved to" in str(w.message)]


def test_engine_pause_resume_fixed_import(prefect_runtime):
    _, before = _deprecations(lambda: prefect_runtime.load("PFL311/engine.py"))
    assert any("'prefect.engine:pause_flow_run' has been moved" in m for m in before), before
    module, after = _deprecations(lambda: prefect_runtime.load("PFL311/engine.fixed.py"))
    assert after == []
    import prefect.flow_runs

    assert module.pause_flow_run is prefect.flow_runs.pause_flow_run
    assert module.suspend_flow_run is prefect.flow_runs.suspend_flow_run
    assert module.resume_flow_run is prefect.flow_runs.resume_flow_run


# -- PFL302 ---------------------------------------------------------------------------------


def test_prefect_2_futures_fail_on_3(prefect_runtime):
    module = prefect_runtime.load("PFL302/async_flow.py")
    state = asyncio.run(module.pipeline(return_state=True))
    assert state.is_failed(), state
    with pytest.raises(TypeError, match="can't be used in 'await' expression"):
        state.result()


def test_prefect_2_futures_fixed_run(prefect_runtime):
    module = prefect_runtime.load("PFL302/async_flow.fixed.py")
    state = asyncio.run(module.pipeline(return_state=True))
    assert state.is_completed(), state
    # fetch(1) + 1, then double over [1, 2]: what the Prefect 2 flow returned.
    assert state.result() == [2, 2, 4]


def test_state_result_fetch_fails_and_fixed_runs(prefect_runtime):
    module = prefect_runtime.load("PFL302/keywords.py")
    state = module.nightly(return_state=True)
    assert state.is_failed(), state
    with pytest.raises(TypeError, match="unexpected keyword argument 'fetch'"):
        state.result()
    fixed = prefect_runtime.load("PFL302/keywords.fixed.py")
    assert fixed.nightly() == 4


def test_is_schedule_active_fails_and_paused_works(prefect_runtime):
    module = prefect_runtime.load("PFL302/keywords.fixed.py")
    with pytest.raises(TypeError, match="is_schedule_active"):
        module.nightly.to_deployment(name="pfl302", is_schedule_active=False)
    deployment = module.nightly.to_deployment(name="pfl302", paused=True)
    assert deployment.paused is True
