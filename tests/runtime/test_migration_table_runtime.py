"""Every row of the migration table does on this Prefect 3 what the row says.

The old spelling (`row.statement`) fails with the row's `error`, or warns with it, or (a
silent alias) just works; the new spelling of a 1:1 row imports. One subprocess runs every
statement, so the rows cost one Prefect import. (The 2.20 side is proven by the `prefect2`
environment's tests, over the same rows.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from prefect_lint.model.migration import MOVED_NAMES, Change

pytest.importorskip("prefect")
pytestmark = pytest.mark.runtime

_PROBE = r"""
import json, sys, warnings
results = {}
for statement in json.loads(sys.argv[1]):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(statement, {})
        except BaseException as error:
            results[statement] = ["error", type(error).__name__ + ": " + str(error)]
            continue
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    results[statement] = ["warning", messages[0]] if messages else ["ok", ""]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[str]]:
    import prefect

    version = tuple(int(p) for p in prefect.__version__.split(".")[:2])
    statements = [row.statement for row in MOVED_NAMES if version in row.versions]
    statements += [row.new_statement for row in MOVED_NAMES if row.new is not None]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(statements)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("row", MOVED_NAMES, ids=lambda row: row.old)
def test_old_spelling_fails_or_warns_as_the_row_says(row, outcomes) -> None:  # type: ignore[no-untyped-def]
    if row.statement not in outcomes:
        pytest.skip("the installed Prefect is outside the row's versions")
    kind, text = outcomes[row.statement]
    if row.change is Change.REMOVED:
        assert kind == "error", (row.statement, kind, text)
        assert text.startswith(row.error), (row.error, text)
    elif row.silent:
        assert kind == "ok", (row.statement, kind, text)
    else:
        assert kind == "warning", (row.statement, kind, text)
        assert row.error.startswith("DeprecationWarning: ")
        assert text.startswith(row.error.removeprefix("DeprecationWarning: ")), (row.error, text)


@pytest.mark.parametrize(
    "row", [r for r in MOVED_NAMES if r.new is not None], ids=lambda row: row.old
)
def test_new_spelling_works(row, outcomes) -> None:  # type: ignore[no-untyped-def]
    assert outcomes[row.new_statement] == ["ok", ""]
