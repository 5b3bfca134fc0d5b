"""The code table: every rule code, the rule class it names, the release that added it and
whether it is a preview rule, as ruff's `codes.rs` maps each code to its group and rule.

Settings, selectors and the cached path of the CLI need the set of codes; importing the rule
classes would import LibCST (~0.2 s), which a run answered from the cache must not pay, so a
row names its class by name. A rule class finds its code here (`RuleMeta.completed`), and
`prefect_lint.rules` checks at import time that the table matches the registered rules.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCS_URL = "https://github.com/prefect-lint/prefect-lint/blob/main/docs/rules/{code}.md"
# The code of a file that does not parse (`SyntaxErrorRule`).
SYNTAX_ERROR = "PFL000"


@dataclass(frozen=True)
class RuleCode:
    """A row of the code table: the rule class the code names, the release that added it,
    and whether it is a preview rule."""

    rule: str
    since: str
    preview: bool = False


# code -> row, in code order.
RULE_CODES: dict[str, RuleCode] = {
    "PFL000": RuleCode("SyntaxErrorRule", "0.1.0"),
    "PFL101": RuleCode("FlowSubmit", "0.1.0"),
    "PFL102": RuleCode("UnwaitedFuture", "0.1.0"),
    "PFL103": RuleCode("SerialResultInLoop", "0.1.0"),
    "PFL104": RuleCode("CallNotFuture", "0.1.0"),
    "PFL105": RuleCode("WaitImport", "0.1.0"),
    "PFL106": RuleCode("BlockingRunDeployment", "0.1.0"),
    "PFL107": RuleCode("AsyncTaskDirectCall", "0.1.0"),
    "PFL108": RuleCode("FutureAsValue", "0.1.0"),
    "PFL109": RuleCode("WaitNotList", "0.1.0"),
    "PFL110": RuleCode("UnusedTaskRunner", "0.1.0", preview=True),
    "PFL201": RuleCode("UnpicklableReturn", "0.1.0"),
    "PFL202": RuleCode("UnpicklableArgument", "0.1.0"),
    "PFL203": RuleCode("UnpicklableGlobal", "0.1.0"),
    "PFL204": RuleCode("MissingMainGuard", "0.1.0"),
    "PFL205": RuleCode("UnhashableTaskInput", "0.1.0", preview=True),
    "PFL301": RuleCode("RemovedIn3", "0.1.0"),
    "PFL302": RuleCode("ChangedIn3", "0.1.0"),
    "PFL311": RuleCode("DeprecatedIn3", "0.1.0"),
    "PFL401": RuleCode("RunContextAtImport", "0.1.0", preview=True),
}


def docs_url(code: str) -> str | None:
    return DOCS_URL.format(code=code) if code in RULE_CODES else None
