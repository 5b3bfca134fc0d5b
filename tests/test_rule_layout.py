"""A rule class declares only its versions and fix: the name comes from the class name, the
summary, docs and Prefect facts from the docstring, the code and `since` from the code table."""

from __future__ import annotations

import pytest

from prefect_lint.records import FACTS_HEADING, RuleMeta, kebab_case
from prefect_lint.rule_codes import RULE_CODES
from prefect_lint.rules import ALL_RULES
from prefect_lint.rules.base import Rule
from prefect_lint.versions import ALL_VERSIONS

# Rules whose name is not their class name's (the name is user-facing and never changes).
NAMED_BY_HAND = {"SyntaxErrorRule": "syntax-error", "SerialResultInLoop": "serial-result"}


@pytest.mark.parametrize(
    ("class_name", "name"),
    [
        ("FlowSubmit", "flow-submit"),
        ("RemovedIn3", "removed-in-3"),
        ("AsyncTaskDirectCall", "async-task-direct-call"),
        ("RunContextAtImport", "run-context-at-import"),
    ],
)
def test_the_name_is_the_class_name_in_kebab_case(class_name: str, name: str) -> None:
    assert kebab_case(class_name) == name


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.__name__)
def test_each_rule_is_completed_from_its_class_and_the_code_table(rule: type[Rule]) -> None:
    meta = rule.meta
    row = RULE_CODES[meta.code]
    assert row.rule == rule.__name__
    assert meta.since == row.since
    assert meta.preview == row.preview
    assert meta.name == NAMED_BY_HAND.get(rule.__name__, kebab_case(rule.__name__))
    assert rule.__doc__ is not None
    assert rule.__doc__.startswith(meta.summary + "\n\n")
    assert meta.facts, "the docstring closes with the Prefect facts the rule relies on"
    assert f"## {FACTS_HEADING}" not in meta.docs


def test_a_rule_outside_the_code_table_is_refused() -> None:
    with pytest.raises(ValueError, match="no row in"):

        class NotInTheTable(Rule):
            """summary

            ## What it does
            Nothing.
            """

            meta = RuleMeta(versions=ALL_VERSIONS)


def test_a_facts_section_lists_anchors() -> None:
    declared = RuleMeta(versions=ALL_VERSIONS)
    doc = "summary\n\n## Versions\nAll.\n\n## Prefect facts\n- flow-has-no-submit\nprose\n"
    with pytest.raises(ValueError, match="anchor"):
        declared.completed("FlowSubmit", doc)
    completed = declared.completed("FlowSubmit", doc.replace("prose\n", "- result-blocks\n"))
    assert completed.facts == ("flow-has-no-submit", "result-blocks")
    assert completed.docs == "## Versions\nAll."
    assert (completed.code, completed.name, completed.summary) == (
        "PFL101",
        "flow-submit",
        "summary",
    )


def test_a_rule_without_a_docstring_is_refused() -> None:
    with pytest.raises(ValueError, match="no docstring"):
        RuleMeta(versions=ALL_VERSIONS).completed("FlowSubmit", None)
