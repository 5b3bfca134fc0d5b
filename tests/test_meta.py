"""Docs, code, fixtures, README and CHANGELOG agree on the set of rules (flake8-async's test)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import prefect_lint.rules
from prefect_lint.config import all_codes
from prefect_lint.docs import rules_table
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import fix_source
from prefect_lint.rules import ALL_RULES, VISITOR_RULES
from prefect_lint.rules.base import DOC_SECTIONS, OPTIONAL_DOC_SECTIONS, Rule, SyntaxErrorRule
from tests.fixture_files import expected_markers, fixture_cases

ROOT = Path(__file__).resolve().parent.parent
CODES = all_codes()
ALL = frozenset(CODES)


def _rule(code: str) -> type[Rule]:
    return next(rule for rule in ALL_RULES if rule.meta.code == code)


def test_codes_and_names_are_unique_and_ordered() -> None:
    assert len(set(CODES)) == len(CODES)
    assert sorted(CODES) == CODES
    names = [rule.meta.name for rule in ALL_RULES]
    assert len(set(names)) == len(names)


def test_every_rule_class_is_registered() -> None:
    defined = set()
    for module_info in pkgutil.walk_packages(prefect_lint.rules.__path__, "prefect_lint.rules."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
            ):
                defined.add(value)
    assert defined == set(ALL_RULES)
    assert set(VISITOR_RULES) == set(ALL_RULES) - {SyntaxErrorRule}


@pytest.mark.parametrize("code", CODES)
def test_rule_is_documented(code: str) -> None:
    meta = _rule(code).meta
    sections = meta.sections()
    required = len(DOC_SECTIONS)
    assert list(sections)[:required] == list(DOC_SECTIONS)
    assert set(list(sections)[required:]) <= set(OPTIONAL_DOC_SECTIONS)
    assert all(body.strip() for body in sections.values())
    assert set(meta.code_examples()) == {"Example", "Use instead"}
    if meta.fix_safety is not None:
        assert meta.fix_title
    generated = ROOT / "docs" / "rules" / f"{code}.md"
    assert generated.read_text(encoding="utf-8") == meta.render_docs(), (
        "stale docs: run `python -m prefect_lint.docs`"
    )


@pytest.mark.parametrize("code", CODES)
def test_doc_examples_are_true(code: str) -> None:
    """The Example triggers the rule, Use instead does not, and the fix turns one into the other."""
    meta = _rule(code).meta
    examples = meta.code_examples()
    found = [d.code for d in check_source(examples["Example"], "example.py", ALL)]
    assert code in found
    assert code not in [d.code for d in check_source(examples["Use instead"], "example.py", ALL)]
    if meta.fix_safety is not None:
        fixed = fix_source(examples["Example"], "example.py", ALL, unsafe=True).text
        assert fixed == examples["Use instead"]


@pytest.mark.parametrize("code", CODES)
def test_rule_is_fixture_tested(code: str) -> None:
    marked = set()
    for case in fixture_cases():
        marked.update(c for _, c in expected_markers(case.read_text(encoding="utf-8")))
    assert code in marked


@pytest.mark.parametrize("code", CODES)
def test_rule_is_in_readme_and_changelog(code: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"[{code}](docs/rules/{code}.md)" in readme
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert code in changelog


def test_readme_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rules_table() in readme, "stale README table: run `python -m prefect_lint.docs`"
