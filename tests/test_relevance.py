"""The per-file skip decision (model/relevance.py, model/precheck.py): files no rule can report
on are never parsed with LibCST, and near misses still are."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Collection
from pathlib import Path

import libcst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect_lint.engine import checker
from prefect_lint.model import relevance
from prefect_lint.model.api import NO_USER_DECORATORS, UserDecorators
from prefect_lint.model.exports import index_for
from prefect_lint.model.precheck import Precheck
from prefect_lint.model.project import ProjectIndex
from prefect_lint.model.relevance import file_facts
from prefect_lint.python_ast import python_tree
from prefect_lint.rule_codes import RULE_CODES
from prefect_lint.rules import VISITOR_RULES

CODES = frozenset(RULE_CODES)


def _own(text: str, decorators: UserDecorators = NO_USER_DECORATORS) -> bool:
    """Whether some rule's trigger fires on the file's own names (project modules aside)."""
    text = textwrap.dedent(text)
    tree = python_tree(text)
    facts = file_facts(text, tree)
    assert tree is not None and facts is not None
    if facts.opaque:
        return True
    precheck = Precheck(tree, facts, decorators)
    return any(rule.trigger(precheck) for rule in VISITOR_RULES)


@pytest.mark.parametrize(
    "text",
    [
        "from prefect.client.orchestration import get_client\nclient = get_client()\n",
        "import prefect\nprint(prefect.__version__)\n",
        "import prefect.settings as s\nvalue = s.PREFECT_API_URL.value()\n",
        "from prefect.settings import PREFECT_API_URL\nurl = PREFECT_API_URL.value()\n",
        "# prefect.flow is mentioned only in a comment\nimport os\n",
        "from prefect.futures import PrefectFuture\nx: PrefectFuture\nevent.wait()\n",
    ],
)
def test_files_no_rule_can_report_on_are_skipped(text: str) -> None:
    assert not _own(text)


# `f.submit()` on a flow `f` is PFL101: each line decides whether `f` may be a flow.
_SUBMITS_F = "def f(): ...\nf.submit()\n"


@pytest.mark.parametrize(
    "text",
    [
        "from prefect import flow\n@flow\n" + _SUBMITS_F,
        "from prefect.flows import flow as fl\n@fl\n" + _SUBMITS_F,
        "import prefect\n@prefect.flow\n" + _SUBMITS_F,
        "import prefect as p\nmake = p\n@make.flow\n" + _SUBMITS_F,
        "import prefect\nx = (prefect\n   # a comment\n   .flow)\n@x\n" + _SUBMITS_F,
        "import prefect\nx = (prefect).flow\n@x\n" + _SUBMITS_F,
        "import prefect\nprefect.wait([])\n",
        "from prefect import get_client\nwait([])\n",  # PFL105: wait never imported
        "from prefect.deployments import Deployment\n",  # a name Prefect 3 removed
        "import prefect\nif (m := prefect):\n    m.wait([])\n",
        "from prefect.task_runners import ConcurrentTaskRunner\n",
        "from prefect import flow\n@flow\ndef etl():\n    t.submit()\n",  # PFL102 maybe
    ],
)
def test_near_misses_are_fully_checked(text: str) -> None:
    assert _own(text)


def test_a_banner_comment_after_a_bound_name_is_read_in_linear_time() -> None:
    # Prefect's own prefect/settings/__init__.py has a line of 76 `#` after such a name: the
    # first chain pattern tried every way to split it into comments (2**76 ways).
    banner = "#" * 76
    assert not _own(f"import prefect.settings\nprefect.settings\n{banner}\n# more\n")
    assert _own(f"import prefect\nx = (prefect  {banner}\n  # more\n  .flow)\n@x\n{_SUBMITS_F}")


def test_configured_wrappers_count() -> None:
    decorators = UserDecorators(flows=frozenset({"acme.deco.tracked_flow"}))
    assert _own("from acme.deco import tracked_flow\n@tracked_flow\n" + _SUBMITS_F, decorators)
    assert not _own("from acme.deco import other\n@other\n" + _SUBMITS_F, decorators)


def test_unparsable_text_has_no_facts() -> None:
    assert file_facts("def broken(:\n") is None


def _project(tmp_path: Path, files: dict[str, str]) -> ProjectIndex:
    (tmp_path / "pyproject.toml").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return index_for(str(tmp_path / "pyproject.toml"))


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    original = libcst.parse_module

    def counting(source: str, *args: object, **kwargs: object) -> libcst.Module:
        parsed.append(source)
        return original(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checker.cst, "parse_module", counting)
    return parsed


def test_a_skipped_file_is_never_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = _project(tmp_path, {"job.py": "import prefect\nprint(prefect.__version__)\n"})
    parsed = _parses(monkeypatch)
    path = str(tmp_path / "job.py")
    source = (tmp_path / "job.py").read_text()
    assert checker.check_source(source, path, CODES, index=index) == []
    assert parsed == []


def test_a_name_from_a_local_module_re_exporting_prefect_flow(tmp_path: Path) -> None:
    index = _project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/compat.py": "from prefect import flow as make_flow\n",
            "pkg/job.py": """\
                from pkg.compat import make_flow

                @make_flow
                def child() -> int:
                    return 1

                @make_flow
                def parent() -> None:
                    child.submit()
                """,
        },
    )
    path = tmp_path / "pkg" / "job.py"
    codes, _ = checker._reporting_codes(
        path.read_text(), str(path), CODES, NO_USER_DECORATORS, index, None
    )
    assert "PFL101" in codes
    diagnostics = checker.check_source(path.read_text(), str(path), CODES, index=index)
    assert [d.code for d in diagnostics] == ["PFL101"]


def test_a_module_re_exporting_prefect_itself(tmp_path: Path) -> None:
    # `compat.p` is the module `prefect`: `p.flow` is `prefect.flow`.
    index = _project(
        tmp_path,
        {
            "compat.py": "import prefect as p\n",
            "job.py": """\
                from compat import p

                @p.flow
                def child() -> int:
                    return 1

                @p.flow
                def parent() -> None:
                    child.submit()
                """,
        },
    )
    path = tmp_path / "job.py"
    diagnostics = checker.check_source(path.read_text(), str(path), CODES, index=index)
    assert [d.code for d in diagnostics] == ["PFL101"]


def test_through_a_module_without_prefect(tmp_path: Path) -> None:
    index = _project(
        tmp_path,
        {
            "flows.py": "from prefect import flow\n\n@flow\ndef child() -> int:\n    return 1\n",
            "middle.py": "from flows import child\n",
            "job.py": """\
                # uses prefect flows from elsewhere
                from middle import child
                from prefect import get_client

                def parent() -> None:
                    child.submit()
                """,
        },
    )
    path = tmp_path / "job.py"
    assert index.reaches_prefect(["middle.child"], str(path))
    codes, _ = checker._reporting_codes(
        path.read_text(), str(path), CODES, NO_USER_DECORATORS, index, None
    )
    assert "PFL101" in codes


def test_project_modules_without_prefect_are_not_followed_for_ever(tmp_path: Path) -> None:
    index = _project(
        tmp_path,
        {
            "a.py": "import b\n",
            "b.py": "import a\n",
            "job.py": "import a\nfrom prefect.settings import PREFECT_HOME\n",
        },
    )
    path = tmp_path / "job.py"
    assert not index.reaches_prefect(["a", "a.x"], str(path))
    codes, _ = checker._reporting_codes(
        path.read_text(), str(path), CODES, NO_USER_DECORATORS, index, None
    )
    assert not codes


def test_the_answer_depends_on_the_files_read(tmp_path: Path) -> None:
    index = _project(tmp_path, {"a.py": "X = 1\n", "job.py": "import a\n"})
    index.start_recording()
    assert not index.reaches_prefect(["a", "a.X"], str(tmp_path / "job.py"))
    recorded = index.stop_recording(str(tmp_path / "job.py"))
    assert str(tmp_path / "a.py") in recorded


@pytest.mark.parametrize(
    "text",
    [
        "from prefect import flow, task\n",
        "from prefect import task as t\n\n@t\ndef load(x):\n    return x\n",
        "from prefect import flow\n\n@flow\ndef etl():\n    f = t.submit()\n    f.result()\n",
    ],
)
def test_flow_and_task_modules_with_nothing_to_report_are_skipped(text: str) -> None:
    # Naming `flow` or `task` no longer makes a file relevant by itself (it used to, and
    # every Prefect module was parsed).
    assert not _own(text)


# -- the text scan for chains ------------------------------------------------------------------

# The scan `_Collector._text_chains` replaced: one pattern matching every name a link may
# follow, each looked up among the bound names. The two must find the same chains.
_EVERY_NAME = re.compile(r"(?<![\w.])([^\W\d]\w*)(?=[ \t\f]*[.)#\\\r\n])")


def _chains_by_one_pattern(text: str, bound: Collection[str]) -> list[tuple[str, tuple[str, ...]]]:
    chains: list[tuple[str, tuple[str, ...]]] = []
    for match in _EVERY_NAME.finditer(text):
        root = match.group(1)
        if root not in bound:
            continue
        attrs: list[str] = []
        link = relevance._LINK.match(text, match.end())
        while link is not None:
            attrs.append(link.group(1))
            link = relevance._LINK.match(text, link.end())
        if attrs:
            chains.append((root, tuple(attrs)))
    return sorted(chains)


def _chains_by_scan(text: str, bound: Collection[str]) -> list[tuple[str, tuple[str, ...]]]:
    collector = relevance._Collector()
    collector.bound = {name: {name} for name in bound}
    collector._text_chains(text)
    return sorted(collector.chains)


def _fixture_texts() -> list[str]:
    root = Path(__file__).resolve().parent.parent / "fixtures"
    return [path.read_text() for path in sorted(root.rglob("*.py"))]


def test_the_chain_scan_finds_what_one_pattern_over_every_name_finds() -> None:
    texts = [text for text in _fixture_texts() if text.isascii()]
    assert len(texts) > 100
    for text in texts:
        tree = python_tree(text)
        if tree is None:
            continue
        collector = relevance._Collector()
        collector.collect_statements(tree.body)
        bound = set(collector.bound) | {"flow", "task", "x"}
        assert _chains_by_scan(text, bound) == _chains_by_one_pattern(text, bound)


@given(
    st.text(alphabet="ab_1. \t\\\n#()x", max_size=40),
)
@settings(max_examples=500, deadline=None)
def test_the_chain_scan_agrees_on_odd_texts(text: str) -> None:
    bound = ["a", "ab", "a_1", "b", "x"]
    assert _chains_by_scan(text, bound) == _chains_by_one_pattern(text, bound)


# The pattern `_calls_bare_wait` replaced: the name's start checked by a lookbehind.
_BARE_WAIT_BY_LOOKBEHIND = re.compile(r"(?<![\w.])(?:wait|as_completed)" + relevance._GAP + r"\(")


def test_the_bare_wait_search_agrees_with_a_lookbehind_on_every_fixture() -> None:
    texts = _fixture_texts()
    assert any(relevance._calls_bare_wait(text) for text in texts)
    for text in texts:
        expected = bool(_BARE_WAIT_BY_LOOKBEHIND.search(text))
        assert relevance._calls_bare_wait(text) == expected


_PIECES = ["wait", "as_completed", "x", ".", "(", " ", "\n", "#", "\\", "é"]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
@settings(max_examples=500, deadline=None)
def test_the_bare_wait_search_agrees_with_a_lookbehind_on_odd_texts(text: str) -> None:
    assert relevance._calls_bare_wait(text) == bool(_BARE_WAIT_BY_LOOKBEHIND.search(text))


def test_every_statement_that_holds_statements_is_walked_into() -> None:
    holding = {
        kind
        for kind in vars(ast).values()
        if isinstance(kind, type)
        and issubclass(kind, ast.stmt)
        and {"body", "orelse", "finalbody", "handlers", "cases"} & set(kind._fields)
    }
    assert holding and holding <= relevance._COMPOUND_STATEMENTS
