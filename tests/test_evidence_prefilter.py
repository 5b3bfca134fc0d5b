"""The 2.x evidence scan's text prefilter: it rejects the texts the scanner cannot find
evidence in, and never one it finds evidence in (on the fixtures and generated code)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefect_lint.model.evidence import evidence_in_text, may_have_evidence, scan_text
from prefect_lint.model.migration import evidence_rows

ROOT = Path(__file__).resolve().parent.parent

# Evidence in every shape the scanner reads, including the awkward ways of writing them.
FOUND = [
    "from prefect.deployments import Deployment\n",
    "from prefect.deployments import Deployment as D\n",
    "from prefect.deployments import (\n    # old API (2.x)\n    Deployment,\n)\n",
    "from prefect.deployments import (  # see (docs)\n    Deployment)\n",
    "from prefect.deployments import (flow_runs,\n  Deployment)\n",
    "from prefect.deployments import flow_runs, \\\n    Deployment\n",
    "from prefect . deployments import Deployment\n",
    "from prefect.\\\n  deployments import Deployment\n",
    "from \\\n prefect.deployments import Deployment\n",
    "from prefect import orion\n",
    "from prefect import flow; from prefect.infrastructure import Process\n",
    "import prefect.orion\n",
    "import prefect.orion.schemas as s\n",
    "import prefect.infrastructure.docker as d\n",
    "import prefect . orion\n",
    "import prefect.\\\norion\n",
    "import prefect\nprefect.deployments.Deployment.build_from_flow\n",
    "import prefect\nx = (prefect\n  .deployments\n  .Deployment)\n",
    "import prefect\nx = (prefect.deployments  # why\n  # more\n  .Deployment)\n",
    "import prefect\nx = (prefect.deployments.  # why\n  Deployment)\n",
    "import prefect\nx = prefect.deployments \\\n  .Deployment\n",
    "import prefect\nx = (prefect.deployments).Deployment\n",
    "import prefect\nx = ((prefect).deployments).Deployment\n",
    "import prefect as p\nx = p.orion\n",
    "import prefect.deployments as dep\nx = dep.Deployment\n",
    "import prefect.deployments as dep\nx = (dep # c\n).Deployment\n",
    "from prefect import deployments\nx = deployments.Deployment\n",
    "from prefect import deployments as d\nx = d.Deployment\n",
    "from prefect import (deployments as\n  d)\nx = d.Deployment\n",
    "from prefect import task_runners as tr\nx = tr.SequentialTaskRunner()\n",
    "from prefect import infrastructure\nx = infrastructure.docker.DockerContainer\n",
    "s = 'a #'; import prefect.orion\n",
    "s = 'from #'; from prefect.deployments import Deployment\n",
    "import prefect as p\r\nx = (p\r\n  .orion)\r\n",
    "import prefect as p\rx = (p\r  .orion)\r",
    "import \uff50refect\n\uff50refect.\uff4frion.x\n",  # fullwidth letters
    "import prefect as ñ\nx = ñ.orion\n",
    "import prefect\nx = (prefect.deployments.  # c\n  # more\n\n  Deployment)\n",
    "from prefect import (deployments  # such as\n  as d)\nx = d.Deployment\n",
    "from prefect import (deployments as  # c\n  d)\nx = d.Deployment\n",
    "from prefect import (deployments as  # c\n  d)\nx = (d.  # c\n  Deployment)\n",
    "# see foo.\n# as bar.\nimport prefect as p\nx = p.orion\n",
]

# No evidence, and the prefilter sees it without a parse.
REJECTED = [
    "from prefect import flow\n\n@flow\ndef f(): ...\n",
    # Table words, but not where a 2.x-only name can come from.
    "from prefect import flow\nfrom prefect.server.schemas import core\nx = core.Deployment\n",
    "from prefect.utilities import pydantic\nx = pydantic.x\n",
    "import prefect\nx = prefect._internal.pydantic.v2\n",
    "from prefect.server.database import orm_models\nx = orm_models.Deployment\n",
    "from prefect import flow\nimport multiprocessing\nx = multiprocessing.Process\n",
    "from prefect.server.api import deployments\ndef Deployment(): ...\n",
    "from prefect.docker import docker_image\nx = docker_image.docker\n",
    '"""Run a Deployment with a Process (orion, pydantic)."""\nimport prefect\n',
    "from prefect import flow  # the 2.x Deployment is gone\n",
    "from prefect_aws import S3Bucket\nfrom prefect_aws.s3 import S3\n",
    "from prefect.client.schemas import Deployment\n",
    "from prefect.docker import docker\n",
    # No `prefect` word at all.
    "import prefect_aws\nx = prefect_aws.deployments.Deployment\n",
    "from myprefect.deployments import Deployment\n",
]


@pytest.mark.parametrize("source", FOUND)
def test_evidence_passes_the_prefilter(source: str) -> None:
    assert scan_text(source, "f.py"), "not evidence: the case tests nothing"
    assert may_have_evidence(source)
    assert evidence_in_text(source, "f.py") == scan_text(source, "f.py")


@pytest.mark.parametrize("source", REJECTED)
def test_the_prefilter_rejects_what_cannot_be_evidence(source: str) -> None:
    assert not scan_text(source, "f.py")
    assert not may_have_evidence(source)


def _fixture_texts() -> list[str]:
    paths = sorted((ROOT / "fixtures").rglob("*.py"))
    return [path.read_text(encoding="utf-8") for path in paths]


def _variants(text: str) -> list[str]:
    """The same code with other line endings, and with every `.` of a line continued."""
    return [
        text,
        text.replace("\n", "\r\n"),
        text.replace("\n", "\r"),
        "\n".join(
            line.replace(".", " \\\n    . ") if line.lstrip().startswith("import ") else line
            for line in text.split("\n")
        ),
    ]


def test_the_prefilter_keeps_every_fixture_with_evidence() -> None:
    with_evidence = 0
    for text in _fixture_texts():
        for variant in _variants(text):
            if scan_text(variant, "f.py"):
                with_evidence += 1
                assert may_have_evidence(variant), variant
    assert with_evidence >= 12  # the migration fixtures (PFL301, PFL311) hold some


def test_the_prefilter_drops_most_fixtures() -> None:
    texts = _fixture_texts()
    kept = sum(may_have_evidence(text) for text in texts)
    assert kept < len(texts) / 4


# -- generated code: the bindings and chains the scanner resolves, written every way --------

_PARTS = sorted(
    {part for row in evidence_rows() for part in row.old.split(".")[1:]} | {"core", "x", "flow"}
)
_ALIASES = ["p", "d", "x", "deployments", "orion"]


@st.composite
def _gaps(draw: st.DrawFn, bracketed: bool) -> str:
    if bracketed:
        pieces = [" ", "", "\n  ", "  # c (x) #\n  ", "\\\n", "\r\n  "]
    else:
        pieces = ["", " ", "\\\n  "]
    return "".join(draw(st.lists(st.sampled_from(pieces), max_size=3)))


_ROWS = sorted(row.old for row in evidence_rows())


@st.composite
def _modules(draw: st.DrawFn) -> str:
    """A module binding a prefix of a dotted name (a table row, or not) and reaching the
    rest of it through the binding, every token separated in some legal way."""
    if draw(st.booleans()):
        parts = draw(st.sampled_from(_ROWS)).split(".")
    else:
        parts = ["prefect", *draw(st.lists(st.sampled_from(_PARTS), min_size=1, max_size=3))]
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["x", "build_from_flow"])))
    alias = draw(st.sampled_from(_ALIASES))
    kind = draw(st.integers(0, 4))
    # How many parts the import names: all of them for `import`, one more than the module
    # for `from ... import`.
    cut = draw(st.integers(1, len(parts) - (0 if kind < 2 else 1)))
    module = ".".join(parts[:cut])
    if kind == 0:
        binding, root, rest = f"import {module}\n", "prefect", parts[1:]
    elif kind == 1:
        binding, root, rest = f"import {module} as {alias}\n", alias, parts[cut:]
    elif kind == 2:
        binding, root, rest = f"from {module} import {parts[cut]}\n", parts[cut], parts[cut + 1 :]
    elif kind == 3:
        binding = f"from {module} import {parts[cut]} as {alias}\n"
        root, rest = alias, parts[cut + 1 :]
    else:
        gap = draw(_gaps(True))
        binding = f"from {module} import ({gap}{parts[cut]} as {gap}{alias},{gap})\n"
        root, rest = alias, parts[cut + 1 :]
    if draw(st.booleans()):
        binding = binding.replace(".", draw(_gaps(False)) + "." + draw(_gaps(False)))
    bracketed = draw(st.booleans())
    chain = root
    for attr in rest:
        chain += draw(_gaps(bracketed)) + "." + draw(_gaps(bracketed)) + attr
    use = f"value = ({chain})\n" if bracketed else f"value = {chain}\n"
    junk = draw(st.sampled_from(["", "s = 'x #'; ", "# from prefect import (\n", "s = 'as #'; "]))
    text = junk + binding + use
    return text.replace("\n", draw(st.sampled_from(["\n", "\r\n", "\r"])))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_modules())
def test_the_prefilter_keeps_generated_evidence(source: str) -> None:
    if scan_text(source, "f.py"):
        assert may_have_evidence(source)


def test_generated_modules_hold_evidence_often() -> None:
    """The generator is not vacuous: a good share of its modules are evidence."""
    found = 0

    @settings(max_examples=200, deadline=None, database=None)
    @given(_modules())
    def count(source: str) -> None:
        nonlocal found
        found += bool(scan_text(source, "f.py"))

    count()
    assert found >= 50


@pytest.mark.parametrize(
    "text",
    [
        "import prefect\nx = a." + "#" * 50_000 + "\n",
        "import prefect\nfrom prefect import (" + "#" * 50_000,
        "import prefect\n" + "from prefect import (a #\n" * 5_000,
        "import prefect\n" + ("x.\r\n\r\n" * 20_000),
        "import prefect\n" + "as #" * 20_000 + "\ny.Deployment\n",
        "import prefect\n(x" + ")" * 50_000 + "\n",
        "import prefect\n" + "# .\n" * 20_000 + "Deployment\n",
        "import prefect\n" + "x = (a.  # c\n" * 20_000,
        "import prefect\nfrom prefect import (\n" + "# from prefect import (\n" * 5_000,
        "import prefect\n" + "from prefect import a " * 5_000,
        "import prefect\n" + "as #\n" * 20_000 + "y.Deployment\n",
        "import prefect\n" + "x\n" + "   )\n" * 20_000 + ".Deployment\n",
    ],
)
def test_the_prefilter_stays_linear(text: str) -> None:
    start = time.process_time()
    may_have_evidence(text)
    assert time.process_time() - start < 1.0
