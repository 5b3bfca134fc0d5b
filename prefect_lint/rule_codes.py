"""Every rule code and whether it is a preview rule, without importing the rules.

Settings, selectors and the cached path of the CLI need the set of codes; importing the rule
classes would import LibCST (~0.2 s), which a run answered from the cache must not pay.
`prefect_lint.rules` checks at import time that this table matches the registered rules.
It is the one home of the preview flag (`RuleMeta.preview` reads it), as ruff's code table
holds each rule's group.
"""

from __future__ import annotations

DOCS_URL = "https://github.com/prefect-lint/prefect-lint/blob/main/docs/rules/{code}.md"
# The code of a file that does not parse (`SyntaxErrorRule`).
SYNTAX_ERROR = "PFL000"

# code -> preview, in code order.
RULE_CODES: dict[str, bool] = {
    "PFL000": False,
    "PFL101": False,
    "PFL102": False,
    "PFL103": False,
    "PFL104": False,
    "PFL105": False,
    "PFL106": False,
    "PFL107": False,
    "PFL108": False,
    "PFL109": False,
    "PFL110": True,
    "PFL201": False,
    "PFL202": False,
    "PFL203": False,
    "PFL204": False,
    "PFL205": True,
    "PFL301": False,
    "PFL302": False,
    "PFL311": False,
    "PFL401": True,
}


def docs_url(code: str) -> str | None:
    return DOCS_URL.format(code=code) if code in RULE_CODES else None
