"""Docs, code, fixtures, README and CHANGELOG agree on the set of rules (flake8-async's test)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import prefect_lint
import prefect_lint.rules
from prefect_lint.config import all_codes
from prefect_lint.diagnostics import FixAvailability
from prefect_lint.docs import rules_table
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import fix_source
from prefect_lint.records import DOC_SECTIONS, OPTIONAL_DOC_SECTIONS
from prefect_lint.rules import ALL_RULES, VISITOR_RULES
from prefect_lint.rules.base import Rule, SyntaxErrorRule
from tests.doc_examples import whole_module
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
                # A shared base such as `MovedNameRule` has no `meta`: it is no rule itself.
                and "meta" in vars(value)
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
    if meta.fix is not None:
        assert meta.fix.title
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
    use_instead = whole_module(examples["Example"], examples["Use instead"])
    assert code not in [d.code for d in check_source(use_instead, "example.py", ALL)]
    if meta.fix is not None:
        fixed = fix_source(examples["Example"], "example.py", ALL, unsafe=True).text
        assert fixed == use_instead


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


def _fixture_fix_counts() -> dict[str, tuple[int, int]]:
    """code -> (findings with a fix, findings without) over every fixture."""
    counts: dict[str, list[int]] = {}
    for case in fixture_cases():
        text = case.read_text(encoding="utf-8")
        for diagnostic in check_source(text, str(case), ALL):
            counts.setdefault(diagnostic.code, [0, 0])
            if diagnostic.fixable:
                counts[diagnostic.code][0] += 1
            else:
                counts[diagnostic.code][1] += 1
    return {code: (a, b) for code, (a, b) in counts.items()}


def test_fix_availability_matches_the_fixtures() -> None:
    """`always`: every fixture finding has a fix; `sometimes`: some have one and some do not
    (so the word is not a hedge); `never`: none has one."""
    counts = _fixture_fix_counts()
    for rule in ALL_RULES:
        meta = rule.meta
        with_fix, without = counts[meta.code]
        if meta.availability == FixAvailability.ALWAYS:
            assert without == 0, meta.code
        elif meta.availability == FixAvailability.SOMETIMES:
            assert with_fix and without, meta.code
        else:
            assert with_fix == 0 and meta.fix is None, meta.code


def test_rule_docs_state_availability_and_safety() -> None:
    assert (
        _rule("PFL102")
        .meta.render_docs()
        .splitlines()[2]
        .startswith("Fix is sometimes available (safe).")
    )
    assert "Fix is always available (safe)." in _rule("PFL105").meta.render_docs()
    assert "Fix is sometimes available (unsafe" in _rule("PFL108").meta.render_docs()
    assert "Fix is not available." in _rule("PFL000").meta.render_docs()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.mark.parametrize("code", CODES)
def test_since_is_not_after_the_package_version(code: str) -> None:
    assert _version(_rule(code).meta.since) <= _version(prefect_lint.__version__)
