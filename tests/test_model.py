"""The Prefect model: what names and expressions mean, resolved through imports and scopes."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from prefect_lint.model import api
from prefect_lint.model.module import ModuleModel, reference_to
from prefect_lint.model.values import Dotted, Flow, Runner, Task


def _model(source: str) -> ModuleModel:
    return ModuleModel(cst.parse_module(source))


def _value(source: str, name: str):  # type: ignore[no-untyped-def]
    model = _model(source)
    return model.lookup(name, model.module_scope)


@pytest.mark.parametrize(
    "source",
    [
        "from prefect import flow\n@flow\ndef f(): ...\n",
        "from prefect import flow\n@flow(name='x', retries=2)\ndef f(): ...\n",
        "import prefect\n@prefect.flow\ndef f(): ...\n",
        "import prefect.flows\n@prefect.flows.flow\ndef f(): ...\n",
        "from prefect import flow as fl\n@fl\ndef f(): ...\n",
        "from prefect.flows import flow\n@flow\ndef f(): ...\n",
        "from prefect import flow\ndef g(): ...\nf = flow(g)\n",
        "from prefect import flow\ndef g(): ...\nf = flow(name='x')(g)\n",
        "from prefect import flow\n@flow\ndef g(): ...\nf = g.with_options(name='y')\n",
        "import prefect as p\n@p.flow()\ndef f(): ...\n",
    ],
)
def test_flow_forms(source: str) -> None:
    value = _value(source, "f")
    assert isinstance(value, Flow)
    assert not value.infrastructure_bound


@pytest.mark.parametrize(
    "source",
    [
        "from prefect import task\n@task\ndef f(): ...\n",
        "from prefect import task\n@task(retries=3)\ndef f(): ...\n",
        "from prefect.tasks import task as t\n@t\ndef f(): ...\n",
        "from prefect import task\ndef g(): ...\nf = task(g)\n",
        "from prefect import flow, task\n@task\n@flow\ndef f(): ...\n",
        "from prefect import flow, task\n@flow\ndef g(): ...\nf = task(g)\n",
    ],
)
def test_task_forms(source: str) -> None:
    assert isinstance(_value(source, "f"), Task)


@pytest.mark.parametrize(
    ("module", "decorator"),
    [
        ("prefect_kubernetes.decorators", "kubernetes"),
        ("prefect_kubernetes.experimental.decorators", "kubernetes"),
        ("prefect_aws.decorators", "ecs"),
        ("prefect_docker.decorators", "docker"),
        ("prefect_gcp.decorators", "cloud_run"),
        ("prefect_gcp.decorators", "vertex_ai"),
        ("prefect_azure.decorators", "azure_container_instance"),
    ],
)
def test_infrastructure_bound_flows(module: str, decorator: str) -> None:
    source = (
        f"from prefect import flow\nfrom {module} import {decorator}\n"
        f"@{decorator}(work_pool='p')\n@flow\ndef f(): ...\n"
    )
    value = _value(source, "f")
    assert isinstance(value, Flow) and value.infrastructure_bound


def test_unknown_decorator_makes_the_object_unknown() -> None:
    source = "from prefect import flow\nfrom lib import traced\n@traced\n@flow\ndef f(): ...\n"
    assert _value(source, "f") is None


def test_flow_async_and_task_runner() -> None:
    source = (
        "from prefect import flow\n"
        "from prefect.task_runners import ProcessPoolTaskRunner, ConcurrentTaskRunner\n"
        "from prefect_dask import DaskTaskRunner\n"
        "RUNNER = ProcessPoolTaskRunner(max_workers=4)\n"
        "@flow(task_runner=RUNNER)\nasync def a(): ...\n"
        "@flow(task_runner=ConcurrentTaskRunner())\ndef b(): ...\n"
        "@flow(task_runner=DaskTaskRunner)\ndef c(): ...\n"
        "@flow\ndef d(): ...\n"
        "e = d.with_options(task_runner=ProcessPoolTaskRunner())\n"
        "@flow(task_runner=make_runner())\ndef g(): ...\n"
    )
    model = _model(source)
    flows = {n: model.lookup(n, model.module_scope) for n in "abcdeg"}
    assert all(isinstance(v, Flow) for v in flows.values())
    assert flows["a"].is_async is True and flows["b"].is_async is False
    assert flows["a"].task_runner.name == api.PROCESS_POOL_RUNNER
    assert flows["a"].task_runner.call is not None
    assert flows["b"].task_runner.name == api.THREAD_POOL_RUNNER  # the 3.x alias
    assert flows["c"].task_runner == Runner(api.DASK_RUNNER)
    assert flows["d"].task_runner is None
    assert flows["e"].task_runner.name == api.PROCESS_POOL_RUNNER
    assert flows["g"].task_runner == Runner(None)  # a runner, but not one we know


def test_imports_resolve_to_canonical_names() -> None:
    model = _model(
        "import prefect\nimport prefect.futures as pf\nfrom prefect import futures\n"
        "from prefect.futures import wait as w\n"
    )
    scope = model.module_scope
    assert model.evaluate(cst.parse_expression("prefect.flows.flow"), scope) == Dotted(api.FLOW)
    assert model.evaluate(cst.parse_expression("pf.wait"), scope) == Dotted(api.FUTURES_WAIT)
    assert model.evaluate(cst.parse_expression("futures.as_completed"), scope) == Dotted(
        api.FUTURES_AS_COMPLETED
    )
    assert model.lookup("w", scope) == Dotted(api.FUTURES_WAIT)
    # `foo(x).bar` is not `foo.bar`.
    assert model.evaluate(cst.parse_expression("prefect.get_client().flow"), scope) is None


def test_conflicting_bindings_are_unknown() -> None:
    source = "from prefect import flow\n@flow\ndef f(): ...\nif x:\n    f = 1\n"
    assert _value(source, "f") is None


def _inner_scope_value(source: str, call_text: str):  # type: ignore[no-untyped-def]
    """Evaluate the receiver of the call whose code is `call_text`, in its own scope."""
    module = cst.parse_module(source)
    model = ModuleModel(module)
    found = []

    class Finder(cst.CSTVisitor):
        def __init__(self) -> None:
            self.path: list[cst.CSTNode] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            self.path.append(node)
            if isinstance(node, cst.Call) and module.code_for_node(node) == call_text:
                assert isinstance(node.func, cst.Attribute)
                found.append(model.evaluate(node.func.value, model.scope_at(self.path)))
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            self.path.pop()

    module.visit(Finder())
    assert len(found) == 1
    return found[0]


HEADER = "from prefect import flow\n@flow\ndef child(): ...\n"


@pytest.mark.parametrize(
    ("body", "call", "is_flow"),
    [
        ("def f():\n    child.submit()\n", "child.submit()", True),
        ("def f(child):\n    child.submit()\n", "child.submit()", False),
        ("def f():\n    child = 1\n    child.submit()\n", "child.submit()", False),
        (
            "def f():\n    sub = child.with_options(name='x')\n    sub.submit()\n",
            "sub.submit()",
            True,
        ),
        ("def f():\n    [child.submit() for child in xs]\n", "child.submit()", False),
        ("def f():\n    g = lambda child: child.submit()\n", "child.submit()", False),
        ("def f():\n    global child\n    child.submit()\n", "child.submit()", True),
        (
            "class C:\n    child = 1\n    def m(self):\n        child.submit()\n",
            "child.submit()",
            True,
        ),
        ("def f():\n    for child in xs:\n        child.submit()\n", "child.submit()", False),
        ("def f():\n    def g():\n        child.submit()\n", "child.submit()", True),
        ("def f():\n    from other import child\n    child.submit()\n", "child.submit()", False),
    ],
)
def test_scoping(body: str, call: str, is_flow: bool) -> None:
    assert isinstance(_inner_scope_value(HEADER + body, call), Flow) is is_flow


def test_reference_to_prefers_existing_imports() -> None:
    for source, expected in [
        ("from prefect import flow\n", ("task", True)),
        ("from prefect import task as t\n", ("t", False)),
        ("import prefect\n", ("prefect.task", False)),
        ("from prefect import flow\ntask = 1\n", None),
    ]:
        model = _model(source)
        assert reference_to(model, api.TASK, model.module_scope) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # A module-level alias rebound inside the function no longer names the task there.
        ("from prefect import task as t\n\ndef f():\n    t = 1\n", ("task", True)),
        # A module-level name that means something else is rebound to it inside.
        ("task = 1\n\ndef f():\n    from prefect import task\n", ("task", False)),
        # Only a function-local import: the plain name is taken, so no proposal.
        ("import prefect as pf\n\ndef f():\n    from prefect import task\n", ("pf.task", False)),
        ("def f():\n    task = 1\n", None),
        (
            "import prefect as pf\nfrom prefect import task as a_task\n\ndef f():\n    x = 1\n",
            ("a_task", False),
        ),
    ],
)
def test_reference_to_in_a_function_scope(source: str, expected: tuple[str, bool] | None) -> None:
    model = _model(source)
    function = next(s for s in model.module.body if isinstance(s, cst.FunctionDef))
    scope = model.scope_of(function, model.module_scope)
    assert reference_to(model, api.TASK, scope) == expected
    assert reference_to(model, api.TASK, scope) == expected  # answered again from memory


_WRAPPERS = (
    "from prefect import flow, task\nfrom prefect.task_runners import ProcessPoolTaskRunner\n"
)


@pytest.mark.parametrize(
    ("wrapper", "kind"),
    [
        ("def w(fn):\n    return task(fn)\n", Task),
        ("def w(fn, *, retries=2):\n    return task(fn, retries=retries)\n", Task),
        ('def w(fn):\n    """Doc."""\n    tags = ["x"]\n    return task(fn, tags=tags)\n', Task),
        ("def w(fn):\n    return task(retries=1)(fn)\n", Task),
        ("def w(fn): return flow(fn)\n", Flow),
        ("def w(fn):\n    return flow(log_prints=True)(fn)\n", Flow),
    ],
)
def test_plain_wrapper_functions_are_decorators(wrapper: str, kind: type) -> None:
    source = _WRAPPERS + wrapper + "@w\ndef f(): ...\ng = w(len)\n"
    assert isinstance(_value(source, "f"), kind)
    assert isinstance(_value(source, "g"), kind)


def test_wrapper_keeps_the_task_runner_it_sets() -> None:
    source = (
        _WRAPPERS
        + "def w(fn):\n    return flow(fn, task_runner=ProcessPoolTaskRunner())\n"
        + "@w\ndef f(): ...\n"
    )
    value = _value(source, "f")
    assert isinstance(value, Flow)
    assert value.task_runner == Runner(api.PROCESS_POOL_RUNNER, value.task_runner.call)


@pytest.mark.parametrize(
    "wrapper",
    [
        "def w(fn):\n    return task(len)\n",  # wraps something else
        "def w(fn):\n    fn = other(fn)\n    return task(fn)\n",  # rebinds its argument
        "def w(fn):\n    if fn:\n        return fn\n    return task(fn)\n",  # other returns
        "def w(fn):\n    return fn\n",
        "def w(fn):\n    return task(fn)(fn)\n",
        "async def w(fn):\n    return task(fn)\n",
        "def w():\n    return task(len)\n",
        "def w(fn):\n    return wrap(fn)\n",
        "@decorate\ndef w(fn):\n    return task(fn)\n",  # decorated: unknown
    ],
)
def test_other_functions_are_not_wrappers(wrapper: str) -> None:
    source = _WRAPPERS + wrapper + "@w\ndef f(): ...\n"
    assert not isinstance(_value(source, "f"), (Task, Flow))


def test_configured_wrappers_resolve_through_imports() -> None:
    decorators = api.UserDecorators(flows=frozenset({"acme.tracked_flow"}))
    source = (
        "from acme import tracked_flow as tf\nimport acme\n"
        "@tf\ndef f(): ...\n@tf(retries=1)\ndef g(): ...\n@acme.tracked_flow\ndef h(): ...\n"
        "from other import tracked_flow\n@tracked_flow\ndef k(): ...\n"
    )
    model = ModuleModel(cst.parse_module(source), decorators=decorators)
    for name in "fgh":
        assert isinstance(model.lookup(name, model.module_scope), Flow), name
    assert model.lookup("k", model.module_scope) is None
    plain = _model(source)
    assert plain.lookup("f", plain.module_scope) is None


def test_returns_of_finds_returns_in_every_block_but_not_nested_functions() -> None:
    from prefect_lint.tree import returns_of

    source = (
        "def f(x):\n"
        "    if x:\n        return 1\n    else:\n        return 2\n"
        "    for i in x:\n        return 3\n    while x:\n        return 4\n"
        "    try:\n        return 5\n    except ValueError:\n        return 6\n"
        "    else:\n        return 7\n    finally:\n        return 8\n"
        "    with x:\n        return 9\n"
        "    match x:\n        case 1:\n            return 10\n"
        "    def inner():\n        return 99\n"
        "    lambda: 98\n"
        "    if x: return 11\n"
        "    return 12\n"
    )
    function = cst.parse_module(source).body[0]
    assert isinstance(function, cst.FunctionDef)
    values = [cst.Module([]).code_for_node(r.value) for r in returns_of(function) if r.value]
    assert values == [str(n) for n in range(1, 13)]


@pytest.mark.parametrize(
    ("setup", "decorator", "expected"),
    [
        (
            "from prefect.task_runners import ProcessPoolTaskRunner",
            "@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))",
            "ProcessPoolTaskRunner",
        ),
        (
            "from prefect_dask import DaskTaskRunner",
            "@flow(task_runner=DaskTaskRunner())",
            "DaskTaskRunner",
        ),
        (
            "from prefect_dask.task_runners import DaskTaskRunner",
            "@flow(task_runner=DaskTaskRunner(address='tcp://scheduler:8786'))",
            "DaskTaskRunner",
        ),
        (
            "from prefect_dask import DaskTaskRunner",
            "@flow(task_runner=DaskTaskRunner(cluster_kwargs={'processes': False}))",
            None,
        ),
        ("import prefect_ray", "@flow(task_runner=prefect_ray.RayTaskRunner())", "RayTaskRunner"),
        (
            "from prefect.task_runners import ProcessPoolTaskRunner\n"
            "POOL = ProcessPoolTaskRunner()",
            "@flow(task_runner=POOL)",
            "ProcessPoolTaskRunner",
        ),
        (
            "from prefect.task_runners import ThreadPoolTaskRunner",
            "@flow(task_runner=ThreadPoolTaskRunner(max_workers=2))",
            None,
        ),
        ("", "@flow", None),
        ("from runners import CUSTOM", "@flow(task_runner=CUSTOM)", None),
    ],
)
def test_process_based_runners(setup: str, decorator: str, expected: str | None) -> None:
    from prefect_lint.model.boundary import process_runner

    source = f"from prefect import flow\n{setup}\n{decorator}\ndef f(): ...\n"
    flow = _value(source, "f")
    assert isinstance(flow, Flow)
    assert process_runner(flow) == expected


def test_with_options_copy_carries_the_process_runner() -> None:
    from prefect_lint.model.boundary import process_runner

    source = (
        "from prefect import flow\nfrom prefect.task_runners import ProcessPoolTaskRunner\n"
        "@flow\ndef f(): ...\nfast = f.with_options(task_runner=ProcessPoolTaskRunner())\n"
    )
    assert process_runner(_value(source, "f")) is None
    assert process_runner(_value(source, "fast")) == "ProcessPoolTaskRunner"


def test_the_project_index_parses_each_imported_module_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect_lint.engine.checker import check_source
    from prefect_lint.model import project
    from prefect_lint.model.exports import index_for

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "tasks.py").write_text("from prefect import task\n\n@task\ndef t():\n    pass\n")
    (tmp_path / "steps.py").write_text("from tasks import t\n")
    main = tmp_path / "main.py"
    main.write_text(
        "from prefect import flow\nfrom steps import t\n\n@flow\ndef f():\n    t.submit()\n"
    )
    parsed: list[str] = []
    real_parse = project.cst.parse_module

    def counting(text: str) -> cst.Module:
        parsed.append(text)
        return real_parse(text)

    monkeypatch.setattr(project.cst, "parse_module", counting)
    diagnostics = check_source(
        main.read_text(), str(main), frozenset({"PFL102"}), index=index_for(str(main))
    )
    assert [d.code for d in diagnostics] == ["PFL102"]  # the task was found through both
    # LibCST's parser is patched for everyone: the checked file counts too, each once.
    files = [main, tmp_path / "steps.py", tmp_path / "tasks.py"]
    assert sorted(parsed) == sorted(path.read_text() for path in files)
