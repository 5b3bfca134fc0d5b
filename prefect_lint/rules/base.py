"""What a rule is: one metadata record plus a small visitor that reports through its context."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from prefect_lint.diagnostics import Applicability, FixAvailability
from prefect_lint.rule_codes import DOCS_URL
from prefect_lint.versions import ALL_VERSIONS, VersionRange

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext

DOC_SECTIONS = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix safety",
    "Versions",
)
OPTIONAL_DOC_SECTIONS: tuple[str, ...] = ()
# The facts document, relative to docs/rules/ where the rendered docs live.
SEMANTICS_DOC = "../prefect-semantics.md"
_CODE = re.compile(r"^PFL\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RuleMeta:
    """Everything the docs, the CLI, the outputs and the meta-tests know about a rule."""

    code: str
    name: str
    summary: str
    docs: str
    since: str
    # The Prefect releases the rule's claim is true for; the engine never reports outside them.
    versions: VersionRange
    fix_title: str | None = None
    fix_safety: Applicability | None = None
    # Whether every finding gets the fix or only some shapes do; None means NEVER without a
    # `fix_safety`, else SOMETIMES (the honest default: most rewrites are not proven for
    # every shape). Meta-tests check ALWAYS against the fixtures.
    fix_availability: FixAvailability | None = None
    preview: bool = False
    # Fixes this rule offers only in words (the docs explain the rewrite).
    message_only_fix: bool = False
    # The releases the fix is correct for (None: the rule's `versions`); never written outside.
    fix_versions: VersionRange | None = None
    # Anchors in docs/prefect-semantics.md: the Prefect facts the rule, its message and its
    # fix rely on (tests/test_semantics_doc.py keeps them valid; every rule names one).
    facts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"rule code {self.code!r} must look like PFL123")
        if not _NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be kebab-case")
        if self.fix_availability is None:
            default = (
                FixAvailability.NEVER if self.fix_safety is None else FixAvailability.SOMETIMES
            )
            object.__setattr__(self, "fix_availability", default)
        if (self.fix_safety is None) != (self.fix_availability == FixAvailability.NEVER):
            raise ValueError(
                f"{self.code}: a rule has a fix safety exactly when its fix is sometimes or "
                "always available"
            )

    @property
    def effective_fix_versions(self) -> VersionRange:
        return self.fix_versions if self.fix_versions is not None else self.versions

    def versions_line(self) -> str:
        """The generated first line of the docs' Versions section."""
        line = f"Reported on {self.versions.describe()}."
        if self.fix_safety is not None:
            line += f" The fix is offered on {self.effective_fix_versions.describe()}."
        return line

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)

    @property
    def fix_label(self) -> str:
        """`always available (safe)`, `sometimes available (unsafe: ...)` or `not available`."""
        if self.fix_availability == FixAvailability.NEVER or self.fix_safety is None:
            return "not available"
        safety = "safe" if self.fix_safety == Applicability.SAFE else "unsafe: `--unsafe-fixes`"
        return f"{self.fix_availability.value} available ({safety})"  # type: ignore[union-attr]

    def sections(self) -> dict[str, str]:
        """The `## Section` bodies of the docs, by heading."""
        found: dict[str, str] = {}
        current: str | None = None
        lines: list[str] = []
        for line in self.docs.strip("\n").splitlines():
            if line.startswith("## "):
                if current is not None:
                    found[current] = "\n".join(lines).strip("\n")
                current, lines = line[3:].strip(), []
            else:
                lines.append(line)
        if current is not None:
            found[current] = "\n".join(lines).strip("\n")
        return found

    def code_examples(self) -> dict[str, str]:
        """The Python snippet of each of the Example / Use instead sections."""
        examples = {}
        for heading in ("Example", "Use instead"):
            match = re.search(r"```python\n(.*?)```", self.sections().get(heading, ""), re.S)
            if match:
                examples[heading] = match.group(1)
        return examples

    def render_docs(self) -> str:
        fix = f"Fix is {self.fix_label}."
        status = "preview" if self.preview else "stable"
        header = f"# {self.name} ({self.code})\n\n{fix} Status: {status}. Added in {self.since}.\n"
        docs = self.docs.strip().replace(
            "## Versions\n", f"## Versions\n{self.versions_line()}\n\n", 1
        )
        return f"{header}\n{docs}\n{self.facts_section()}"

    def facts_section(self) -> str:
        """The generated closing section: links to the Prefect facts the rule relies on."""
        if not self.facts:
            return ""
        links = "\n".join(f"- [{fact}]({SEMANTICS_DOC}#{fact})" for fact in self.facts)
        return f"\n## Prefect facts\nWhat Prefect does that this rule relies on:\n\n{links}\n"


@dataclass(frozen=True)
class ImportRequest:
    """`from module import name [as asname]`, to be merged into the module's imports."""

    module: str
    name: str | None  # None: `import module`
    asname: str | None = None


@dataclass
class CstFix:
    """A fix as the rule sees it: node replacements plus imports; rendered to text edits later."""

    title: str
    applicability: Applicability
    replacements: Mapping[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel]
    imports: Sequence[ImportRequest] = field(default_factory=tuple)
    # Imports the change may leave unused: removed only if nothing refers to them any more.
    unused_imports: Sequence[ImportRequest] = field(default_factory=tuple)
    # For changes that are not node replacements (inserting statements); runs after them.
    transformer: cst.CSTTransformer | None = None


class Rule:
    """Base class: subclasses set `meta` and define `visit_<Node>` / `leave_<Node>` methods."""

    meta: ClassVar[RuleMeta]

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        *,
        fix: CstFix | None = None,
        statement: cst.CSTNode | None = None,
        versions: VersionRange | None = None,
        fix_versions: VersionRange | None = None,
    ) -> None:
        """Report `node`; pass `statement` (from `context.statement_of`) when reporting late.

        `versions` / `fix_versions` narrow the rule's own ranges for this one report (a row
        of a table-driven rule); the engine drops reports and fixes outside them."""
        self.context.report(
            self.meta,
            node,
            message or self.meta.summary,
            fix,
            statement,
            versions=versions,
            fix_versions=fix_versions,
        )


class SyntaxErrorRule(Rule):
    """PFL000 is emitted by the engine itself when a file does not parse."""

    meta = RuleMeta(
        code="PFL000",
        name="syntax-error",
        summary="file does not parse",
        since="0.1.0",
        versions=ALL_VERSIONS,
        facts=("entrypoints-are-imported",),
        docs="""
## What it does
Reports a file that mentions Prefect but is not valid Python, with the parser's message and
position. The other rules cannot look inside it, and `--fix` never writes to it.

## Why is this bad?
Python refuses to import the module: every flow in it fails before it starts, with a
`SyntaxError`.

## Example
```python
from prefect import flow

@flow
def etl(:
    ...
```

## Use instead
```python
from prefect import flow

@flow
def etl():
    ...
```

## Fix safety
There is no fix. PFL000 cannot be suppressed with `# noqa` or deselected: a file that does
not parse is never silently skipped.

## Versions
Python's own syntax, whatever the Prefect release.
""",
    )
