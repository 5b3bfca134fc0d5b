"""The per-rule triggers (model/precheck.py, model/futures_precheck.py): a trigger may say
"maybe" for a silent file, never "no" for a file its rule reports on."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from prefect_lint.engine import checker
from prefect_lint.model import futures_precheck
from prefect_lint.model.api import NO_USER_DECORATORS
from prefect_lint.model.exports import index_for
from prefect_lint.model.precheck import Precheck
from prefect_lint.model.relevance import file_facts, project_names
from prefect_lint.python_ast import python_tree
from prefect_lint.rules import RULES_BY_CODE, VISITOR_RULES
from prefect_lint.rules.base import Rule

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate_corpus  # noqa: E402
import shapes  # noqa: E402

ALL_CODES = frozenset(rule.meta.code for rule in VISITOR_RULES)


def _precheck(text: str, project: bool = False) -> Precheck:
    text = textwrap.dedent(text)
    tree = python_tree(text)
    assert tree is not None
    facts = file_facts(text, tree)
    assert facts is not None
    return Precheck(tree, facts, NO_USER_DECORATORS, lambda: project)


def _fired(text: str, project: bool = False) -> set[str]:
    precheck = _precheck(text, project)
    return {rule.meta.code for rule in VISITOR_RULES if rule.trigger(precheck)}


def _found(text: str) -> set[str]:
    diagnostics = checker.check_source(textwrap.dedent(text), "job.py", ALL_CODES)
    return {d.code for d in diagnostics}


def test_every_rule_states_its_trigger() -> None:
    for rule in VISITOR_RULES:
        assert isinstance(rule.__dict__.get("trigger") or _inherited(rule), object)
        assert getattr(rule, "trigger", None) is not None, rule.meta.code
        assert rule.trigger.condition, rule.meta.code


def _inherited(rule: type[Rule]) -> object:
    return next((k.__dict__["trigger"] for k in rule.__mro__ if "trigger" in k.__dict__), None)


# -- soundness on every file we have ------------------------------------------------------


def _assert_sound(path: Path) -> set[str]:
    """Per enabled rule: trigger says no => the full check reports nothing of that rule.
    Returns the codes whose trigger said no."""
    text = path.read_text(encoding="utf-8", errors="replace")
    index = index_for(str(path))
    found = {d.code for d in checker.check_source(text, str(path), ALL_CODES, index=index)}
    tree = python_tree(text)
    facts = file_facts(text, tree) if tree is not None else None
    if tree is None or facts is None or facts.opaque:
        return set()

    def project() -> bool:
        return index.reaches_prefect(project_names(facts, index.decorators), str(path))

    precheck = Precheck(tree, facts, index.decorators, project)
    silent = {rule.meta.code for rule in VISITOR_RULES if not rule.trigger(precheck)}
    assert not (silent & found), f"{path}: triggers said no for {sorted(silent & found)}"
    return silent


FIXTURES = sorted(
    path for path in (ROOT / "fixtures").rglob("*.py") if not path.name.endswith(".fixed.py")
)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_sound_on_fixtures(path: Path) -> None:
    _assert_sound(path)


def test_sound_on_the_corpus_and_it_skips_most_of_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate_corpus.generate_corpus(corpus, files=200, seed=2024)
    skipped_futures = 0
    for path in sorted(corpus.rglob("*.py")):
        silent = _assert_sound(path)
        skipped_futures += "PFL102" in silent
    # The common shapes (submit then result, lists then wait, as_completed) are proven clean.
    assert skipped_futures > 150


@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_sound_on_the_scaling_shapes(tmp_path: Path, shape: str) -> None:
    path = tmp_path / f"{shape}.py"
    path.write_text(shapes.generate(shape, 300))
    _assert_sound(path)


# -- the futures pre-check, both ways -------------------------------------------------------

HEADER = """\
from prefect import flow, task
from prefect.futures import wait, as_completed

@task
def t(x=0):
    return [x]

@task
def u(x=0):
    return x

@task
async def a(x=0):
    return x
"""

CLEAN = [
    "f = t.submit(1)\n    f.result()",
    "f = t.submit(1)\n    x = 1\n    return f.result()",
    "fs = [t.submit(i) for i in range(3)]\n    wait(fs)",
    "fs = t.map([1, 2])\n    fs.result()",
    "fs = t.map([1, 2])\n    return [f.result() for f in fs]",
    "pending = []\n    for i in range(3):\n        pending.append(t.submit(i))\n    wait(pending)",
    "pending = []\n    for i in range(3):\n        pending.append(t.submit(i))\n"
    "    for f in as_completed(pending):\n        print(f.result())",
    "f = t.submit(1)\n    g = u.submit(f)\n    return g",
    "f = t.submit(1)\n    return f",
    "wait([t.submit(1), u.submit(2)])",
    "x = t.submit(1).result()",
    "f = t.submit(1)\n    if f.result():\n        return 1\n    return 2",
    "f = t.submit(1)\n    for i in range(2):\n        if i:\n            break\n    f.wait()",
    "fs = [t.submit(i) for i in range(3)]\n    for f in fs:\n        print(f.result())",
    "x = u(1)\n    print(x + 1)",
]

MAYBE = [
    ("t.submit(1)", "PFL102"),
    ("f = t.submit(1)", "PFL102"),
    ("f = t.submit(1)\n    if f.state:\n        f.result()", "PFL102"),
    ("f = t.submit(1)\n    if True:\n        return 1\n    f.result()", "PFL102"),
    (
        "f = t.submit(1)\n    try:\n        f.result()\n    except ValueError:\n        pass",
        "PFL102",
    ),
    ("f = t.submit(1)\n    f = 2\n    wait([f])", "PFL102"),
    ("f = t.submit(1)\n    print(f)", "PFL102"),
    ("for i in range(3):\n        t.submit(i).result()", "PFL103"),
    ("x = u(1)\n    x.result()", "PFL104"),
    ("f = t.submit(1)\n    f.result()\n    f['key']", "PFL108"),
    ("f = t.submit(1)\n    wait(f)", "PFL109"),
    ("f = t.submit(1)\n    s = f.wait()\n    f.result()", "PFL302"),
    ("t(1)\n    a(2)", "PFL107"),
]


@pytest.mark.parametrize("body", CLEAN)
def test_common_shapes_are_proven_clean(body: str) -> None:
    text = f"{HEADER}\n@flow\ndef etl():\n    {body}\n"
    assert not (_fired(text) & {"PFL102", "PFL103", "PFL104", "PFL108", "PFL109", "PFL302"})
    assert not (_found(text) & {"PFL102", "PFL103", "PFL104", "PFL108", "PFL109"})


@pytest.mark.parametrize(("body", "code"), MAYBE)
def test_shapes_that_may_report_are_checked(body: str, code: str) -> None:
    text = f"{HEADER}\n@flow\ndef etl():\n    {body}\n"
    assert code in _fired(text)
    assert code in _found(text)  # each of these really is a finding


def test_a_task_named_submit_in_a_project_module_is_a_direct_call() -> None:
    text = "import steps\n\n@steps.flow\ndef etl():\n    f = steps.submit(1)\n    f.result()\n"
    assert "PFL104" in _fired(text, project=True)
    assert "PFL104" not in _fired(text, project=False)


def test_a_wait_re_exported_by_a_project_module_is_a_wait() -> None:
    text = f"{HEADER}\nfrom helpers import w\n\n@flow\ndef etl():\n    f = t.submit(1)\n    w(f)\n"
    assert "PFL109" in _fired(text, project=True)
    assert "PFL109" not in _fired(text, project=False)


def test_unmapped_re_exported_by_a_project_module_hands_the_future_back() -> None:
    text = f"{HEADER}\nfrom helpers import keep\n\n@flow\ndef etl():\n    f = t.submit(1)\n"
    text += "    keep(f)\n"
    assert "PFL102" in _fired(text, project=True)


# -- the name triggers, both ways ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("from prefect import wait\n", "PFL105"),
        ("import prefect\nprefect.wait([])\n", "PFL105"),
        ("from prefect import get_client\nwait([])\n", "PFL105"),
        ("from prefect import get_client\ndef f(wait=None): ...\nwait([])\n", "PFL105"),
        ("from prefect.deployments import run_deployment\n", "PFL106"),
        ("from prefect.deployments import Deployment\n", "PFL301"),
        ("from prefect.task_runners import ConcurrentTaskRunner\n", "PFL311"),
        ("from prefect import get_run_logger\nlog = get_run_logger()\n", "PFL401"),
        ("import threading as th\n@task\ndef t(lock: th.Lock): ...\n", "PFL205"),
        ("from threading import Lock\n@task\ndef t(*, lock: Optional[Lock]): ...\n", "PFL205"),
        ("from prefect import flow\n@flow(task_runner=None)\ndef f(): ...\n", "PFL110"),
        (
            "from prefect import flow\n@flow(task_runner=None)\ndef f():\n"
            "    def g():\n        t.submit(1)\n    g()\n",
            "PFL110",
        ),
        ("from prefect import get_run_logger\ndef f(log=get_run_logger()): ...\n", "PFL401"),
        (
            "from prefect import flow\n@flow\ndef f():\n    t()\n"
            "fast = f.with_options(task_runner=None)\n",
            "PFL110",
        ),
        ("from prefect import get_run_logger\nclass C:\n    log = get_run_logger()\n", "PFL401"),
        (
            "from prefect import flow\nfrom prefect.task_runners import ProcessPoolTaskRunner\n"
            "@flow(task_runner=ProcessPoolTaskRunner())\ndef f(): ...\n",
            "PFL201",
        ),
        (
            "from prefect import flow\n@flow\ndef f():\n    g.submit(open('x'))\n",
            "PFL202",
        ),
        (
            "from prefect import flow\ndef f():\n    g.submit(open('x'))\n"
            "fast = flow(f).with_options(retries=1)\n",
            "PFL202",
        ),
        ("from prefect import flow\n@flow\ndef f(): ...\nf.submit()\n", "PFL101"),
        ("from prefect import flow\nf.serve(schedule=1)\n", "PFL302"),
    ],
)
def test_name_triggers_fire(text: str, code: str) -> None:
    assert code in _fired(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("from prefect.futures import wait\nwait([])\n", "PFL105"),
        ("from prefect import get_client\n", "PFL105"),
        ("from prefect import flow\n", "PFL106"),
        ("from prefect.deployments import runner\n", "PFL301"),
        ("from prefect import get_client\nclient = get_client()\n", "PFL401"),
        ("import threading\nlock: threading.Thread\n", "PFL205"),
        (
            "from prefect import flow, task\n@task\ndef t(): ...\n"
            "@flow(task_runner=None)\ndef f():\n    t.submit()\n",
            "PFL110",
        ),
        ("import os\nfrom prefect import get_run_logger\nURL = os.environ.get('U')\n", "PFL401"),
        ("import threading\nlock: threading.Lock\n@task\ndef t(n: int): ...\n", "PFL205"),
        ("import threading\ndef t(lock: threading.Lock): ...\n", "PFL205"),
        ("from prefect import flow\n@flow(retries=1)\ndef f(): ...\n", "PFL110"),
        (
            "from prefect import flow\n@flow(task_runner=None)\ndef f():\n"
            "    return [t.submit(x) for x in range(3)]\n",
            "PFL110",
        ),
        (
            "from prefect import flow, get_run_logger\n@flow\ndef f():\n"
            "    get_run_logger().info('x')\nlam = lambda: get_run_logger()\n",
            "PFL401",
        ),
        (
            "from prefect import flow\nfrom prefect.task_runners import ThreadPoolTaskRunner\n"
            "@flow(task_runner=ThreadPoolTaskRunner())\ndef f(): ...\n",
            "PFL201",
        ),
        ("from prefect import flow\n@flow\ndef f():\n    g.submit(1)\n", "PFL202"),
        ("from prefect import flow\ndef f():\n    g.submit(open('x'))\n", "PFL202"),
        (
            "from prefect import task\n@task\ndef t(): ...\nt.submit()\n",
            "PFL101",
        ),
        ("from prefect import flow\nf.serve(cron='x')\n", "PFL302"),
    ],
)
def test_name_triggers_stay_quiet(text: str, code: str) -> None:
    assert code not in _fired(text)


def test_project_values_reopen_the_name_triggers() -> None:
    text = "from helpers import thing\n"
    assert "PFL106" not in _fired(text, project=False)
    assert {"PFL106", "PFL301", "PFL204"} <= _fired(text, project=True)


def test_the_project_index_is_asked_only_when_needed() -> None:
    asked: list[bool] = []

    def project() -> bool:
        asked.append(True)
        return False

    text = "from prefect import flow\n\n@flow\ndef etl():\n    return 1\n"
    tree = ast.parse(text)
    facts = file_facts(text, tree)
    assert facts is not None
    precheck = Precheck(tree, facts, NO_USER_DECORATORS, project)
    assert RULES_BY_CODE["PFL102"].trigger(precheck) is False
    assert asked == []


_FLOW_PASSING = "from prefect import flow\n@flow\ndef f():\n{body}    g.submit(c)\n"


@pytest.mark.parametrize(
    ("body", "fires"),
    [
        # Through names, in either order of the assignments (a loop may run them again).
        ("    a = open('x')\n    b = [a]\n    c = {'k': b}\n", True),
        ("    c = b\n    b = a\n    a = open('x')\n", True),
        ("    with open('x') as a:\n        c = a\n", True),
        # Names that assign each other in a cycle, one of them given a made value.
        ("    a = c\n    c = a\n    a = open('x')\n", True),
        ("    a = c\n    c = a\n", False),
        # A made value that no argument's name leads to.
        ("    a = open('x')\n    b = [a]\n    c = 1\n", False),
        ("    c = 1\n    self.c = open('x')\n", False),
    ],
)
def test_pfl202s_trigger_follows_assigned_names_back_from_the_arguments(
    body: str, fires: bool
) -> None:
    assert ("PFL202" in _fired(_FLOW_PASSING.format(body=body))) is fires


class _EveryNodeEveryRound(futures_precheck._Function):
    """The binding rounds as they were: every binding node evaluated in every round."""

    def bind_rounds(self) -> None:
        binding = [node for node in self.nodes if futures_precheck._may_bind(node)]
        for _ in range(futures_precheck._MAX_ROUNDS):
            self.changed = False
            for node in binding:
                self.bind_node(node)
            if not self.changed:
                return
        raise futures_precheck.Unproven


def _bound_env(function: futures_precheck._Function) -> dict[str, object] | None:
    try:
        function.bind_rounds()
    except futures_precheck.Unproven:
        return None
    return dict(function.env)


def test_binding_rounds_skip_only_nodes_that_would_change_nothing() -> None:
    """Skipping a node whose names were not widened since its last evaluation gives the
    names what evaluating every node in every round gives them, on every fixture's
    functions and the generated shapes (loops carry names from one round to the next)."""
    root = Path(__file__).resolve().parent.parent / "fixtures"
    texts = [path.read_text() for path in sorted(root.rglob("*.py"))]
    texts += [shapes.generate(shape, 300) for shape in shapes.SHAPES]
    compared = 0
    for text in texts:
        tree = python_tree(text)
        facts = file_facts(text, tree) if tree is not None else None
        if tree is None or facts is None:
            continue
        index = Precheck(tree, facts, NO_USER_DECORATORS).index
        for node, nodes in index.functions:
            skipping = futures_precheck._Function(node, nodes, index.names)
            reference = _EveryNodeEveryRound(node, nodes, index.names)
            assert _bound_env(skipping) == _bound_env(reference)
            compared += 1
    assert compared > 200
