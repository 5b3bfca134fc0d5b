"""docs/prefect-semantics.md stays linked and true to the code and the tests that prove it.

Every fact the rules and the code comments name exists; every fact names tests that exist
(found by parsing the test files, never by running them); each fact's "Relied on by" line is
exactly the rules whose `RuleMeta.facts` name it and the modules that cite it; every rule names
at least one fact and every fact is used.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from prefect_lint.rules import ALL_RULES
from prefect_lint.rules.base import SEMANTICS_DOC, Rule

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "prefect-semantics.md"
PACKAGE = ROOT / "prefect_lint"
# Sections that are about the document, not facts a rule relies on.
NOT_FACTS = frozenset({"not-proven-yet"})

_ANCHOR = re.compile(r'^<a id="([a-z0-9-]+)"></a>$', re.M)
_CITATION = re.compile(r"docs/prefect-semantics\.md#([A-Za-z0-9_-]+)")
_TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]`]+)\])?`")
_RULE_CODE = re.compile(r"\bPFL\d{3}\b")
_MODULE_REF = re.compile(r"`(prefect_lint/[\w/]+\.py)`")


@cache
def sections() -> dict[str, str]:
    """The text of each anchored section, by anchor."""
    text = DOC.read_text(encoding="utf-8")
    found = list(_ANCHOR.finditer(text))
    return {
        match.group(1): text[match.end() : found[i + 1].start() if i + 1 < len(found) else None]
        for i, match in enumerate(found)
    }


def facts() -> list[str]:
    return [anchor for anchor in sections() if anchor not in NOT_FACTS]


def relied_on_by(anchor: str) -> str:
    match = re.search(r"\*\*Relied on by:\*\*(.*?)(?:\n\n|\Z)", sections()[anchor], re.S)
    assert match, f"#{anchor} has no '**Relied on by:**' paragraph"
    return match.group(1)


def proof(anchor: str) -> str:
    match = re.search(r"\*\*Proof\.\*\*(.*?)(?:\n\n|\Z)", sections()[anchor], re.S)
    assert match, f"#{anchor} has no '**Proof.**' paragraph"
    return match.group(1)


def rules_naming(anchor: str) -> set[str]:
    return {rule.meta.code for rule in ALL_RULES if anchor in rule.meta.facts}


@cache
def citations() -> dict[str, set[str]]:
    """Anchors cited by each module of the package (`docs/prefect-semantics.md#anchor`)."""
    cited: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        anchors = set(_CITATION.findall(path.read_text(encoding="utf-8")))
        if anchors:
            cited[path.relative_to(ROOT).as_posix()] = anchors
    return cited


@cache
def collected_tests(path: str) -> tuple[frozenset[str], frozenset[str]]:
    """The test functions of a file (`name`, `Class::name`) and its string constants."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    return frozenset(n for n in names if n.rsplit("::", 1)[-1].startswith("test_")), frozenset(
        strings
    )


def test_the_document_has_facts() -> None:
    assert len(facts()) >= 20
    assert len(set(_ANCHOR.findall(DOC.read_text(encoding="utf-8")))) == len(sections())


def test_internal_links_resolve() -> None:
    text = DOC.read_text(encoding="utf-8")
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links, "the document links no section"
    assert links <= set(sections()), links - set(sections())
    # The list at the top names every fact.
    assert set(facts()) <= links


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.meta.code)
def test_rule_names_facts_that_exist(rule: type[Rule]) -> None:
    meta = rule.meta
    assert meta.facts, f"{meta.code} names no fact of docs/prefect-semantics.md"
    assert len(set(meta.facts)) == len(meta.facts)
    assert set(meta.facts) <= set(facts()), set(meta.facts) - set(facts())
    rendered = meta.render_docs()
    for fact in meta.facts:
        assert f"]({SEMANTICS_DOC}#{fact})" in rendered


def test_rendered_link_reaches_the_document() -> None:
    assert (ROOT / "docs" / "rules" / SEMANTICS_DOC).resolve() == DOC


def test_code_cites_facts_that_exist() -> None:
    for path, anchors in citations().items():
        assert anchors <= set(facts()), (path, anchors - set(facts()))
    # No citation in the old form ("prefect-semantics.md §3"), which pointed outside the repo.
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"prefect-semantics(?:\.md)?\s*§", text), path


@pytest.mark.parametrize("anchor", facts())
def test_fact_names_tests_that_exist(anchor: str) -> None:
    refs = _TEST_REF.findall(proof(anchor))
    assert refs, f"#{anchor} names no test that proves it"
    for path, name, param in refs:
        assert (ROOT / path).is_file(), path
        functions, strings = collected_tests(path)
        assert name in functions, f"#{anchor}: {path}::{name} is not a test function"
        if param:
            # A parametrized case is named by an id the file spells out.
            assert param in strings, f"#{anchor}: {path}::{name}[{param}] has no such id"


@pytest.mark.parametrize("anchor", facts())
def test_relied_on_by_matches_the_code(anchor: str) -> None:
    line = relied_on_by(anchor)
    assert set(_RULE_CODE.findall(line)) == rules_naming(anchor), (
        f"#{anchor}: its 'Relied on by' rules differ from the rules whose RuleMeta.facts name it"
    )
    citing = {path for path, anchors in citations().items() if anchor in anchors}
    assert set(_MODULE_REF.findall(line)) == citing, (
        f"#{anchor}: its 'Relied on by' modules differ from the modules that cite it"
    )


@pytest.mark.parametrize("anchor", facts())
def test_fact_is_used(anchor: str) -> None:
    used = rules_naming(anchor) or any(anchor in cited for cited in citations().values())
    assert used, f"#{anchor} is used by no rule, fix or module: remove it or link it"
