"""The records a rule hands to the engine: its metadata (`RuleMeta`, with the declaration of
its fix, `FixMeta`) and its fixes (`CstFix`, `ImportRequest`).

They sit below both `rules/` and `engine/`, so the engine reads them without importing the
rules and a rule's base class can import the engine's context without a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from prefect_lint.diagnostics import Applicability, FixAvailability
from prefect_lint.fixes.statements import InsertStatements
from prefect_lint.rule_codes import DOCS_URL, RULE_CODES
from prefect_lint.tree import Replacement
from prefect_lint.versions import VersionRange

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
class FixMeta:
    """The fix a rule offers, as its docs, the CLI and the outputs describe it; several rules
    may offer the same one (the runner switch of PFL201-PFL203, the `NO_CACHE` fix)."""

    title: str
    safety: Applicability
    # Whether every finding gets the fix or only some shapes do. SOMETIMES is the honest
    # default: most rewrites are not proven for every shape. Meta-tests check ALWAYS against
    # the fixtures.
    availability: FixAvailability = FixAvailability.SOMETIMES
    # The releases the fix is correct for (None: the rule's `versions`); never written outside.
    versions: VersionRange | None = None

    def __post_init__(self) -> None:
        if self.availability == FixAvailability.NEVER:
            raise ValueError(f"{self.title!r}: a rule without a fix declares no FixMeta")

    def build(
        self,
        replacements: Mapping[cst.CSTNode, Replacement],
        imports: Sequence[ImportRequest] = (),
        *,
        unused_imports: Sequence[ImportRequest] = (),
        transformer: InsertStatements | None = None,
    ) -> CstFix:
        """One finding's fix, with this declaration's title and safety."""
        return CstFix(
            self.title,
            self.safety,
            replacements,
            imports,
            unused_imports=unused_imports,
            transformer=transformer,
        )


@dataclass(frozen=True)
class RuleMeta:
    """Everything the docs, the CLI, the outputs and the meta-tests know about a rule.

    Whether it is a preview rule is kept in `rule_codes.RULE_CODES`, which settings read
    without importing the rules."""

    code: str
    name: str
    summary: str
    docs: str
    since: str
    # The Prefect releases the rule's claim is true for; the engine never reports outside them.
    versions: VersionRange
    fix: FixMeta | None = None
    # Anchors in docs/prefect-semantics.md: the Prefect facts the rule, its message and its
    # fix rely on (tests/test_semantics_doc.py keeps them valid; every rule names one).
    facts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"rule code {self.code!r} must look like PFL123")
        if not _NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be kebab-case")

    @property
    def preview(self) -> bool:
        # A rule outside the catalog (a test's own) is stable; `prefect_lint.rules` checks
        # that every registered rule is in it.
        return RULE_CODES.get(self.code, False)

    @property
    def effective_fix_versions(self) -> VersionRange:
        """The releases the fix is offered on (the rule's own without a narrower fix range)."""
        if self.fix is None or self.fix.versions is None:
            return self.versions
        return self.fix.versions

    def versions_line(self) -> str:
        """The generated first line of the docs' Versions section."""
        line = f"Reported on {self.versions.describe()}."
        if self.fix is not None:
            line += f" The fix is offered on {self.effective_fix_versions.describe()}."
        return line

    @property
    def availability(self) -> FixAvailability:
        return FixAvailability.NEVER if self.fix is None else self.fix.availability

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)

    @property
    def fix_label(self) -> str:
        """`always available (safe)`, `sometimes available (unsafe: ...)` or `not available`."""
        if self.fix is None:
            return "not available"
        safety = "safe" if self.fix.safety == Applicability.SAFE else "unsafe: `--unsafe-fixes`"
        return f"{self.fix.availability.value} available ({safety})"

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
    """A fix as the rule sees it: node replacements, statement insertions and imports;
    rendered to text edits later."""

    title: str
    applicability: Applicability
    replacements: Mapping[cst.CSTNode, Replacement]
    imports: Sequence[ImportRequest] = field(default_factory=tuple)
    # Imports the change may leave unused: removed only if nothing refers to them any more.
    unused_imports: Sequence[ImportRequest] = field(default_factory=tuple)
    # Statements to insert (by original node identity). Rendered in the same pass as
    # `replacements`, which it takes over (`InsertStatements.with_replacements`).
    transformer: InsertStatements | None = None
