"""The records a rule hands to the engine: its metadata (`RuleMeta`, with the declaration of
its fix, `FixMeta`) and its fixes (`CstFix`, `ImportRequest`).

They sit below both `rules/` and `engine/`, so the engine reads them without importing the
rules and a rule's base class can import the engine's context without a cycle.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

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
# The closing docs section: a rule's docstring lists the anchors (`- flow-has-no-submit`),
# the rendered docs link them.
FACTS_HEADING = "Prefect facts"
# A word of a class name starts at a capital or a run of digits: `RemovedIn3`.
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")
_CODE_OF_CLASS = {row.rule: code for code, row in RULE_CODES.items()}


def kebab_case(class_name: str) -> str:
    """A rule's name from its class name, as ruff derives `flow-submit` from `FlowSubmit`:
    `RemovedIn3` -> `removed-in-3`."""
    return _WORD_START.sub("-", class_name).lower()


def _fact_anchor(rule_class: str, line: str) -> str:
    if not line.startswith("- "):
        raise ValueError(f"{rule_class}: the {FACTS_HEADING} section lists `- anchor` lines")
    return line[2:].strip()


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

    A rule class declares what only it knows: the Prefect `versions` its claim holds for and
    its `fix`. The rest has its home elsewhere, and `completed` reads it from there when the
    class is made (`Rule.__init_subclass__`), as ruff and Fixit do: the name from the class
    name (`FlowSubmit` -> `flow-submit`; `name=` only where today's name differs from it), the
    summary, docs and Prefect facts from the class docstring (its first line, its sections,
    its closing `## Prefect facts` list), the code, `since` and preview flag from the code
    table `rule_codes.RULE_CODES`. A record written out in full (a test's own rule, outside
    the table) is taken as it is."""

    # The Prefect releases the rule's claim is true for; the engine never reports outside them.
    versions: VersionRange
    fix: FixMeta | None = None
    name: str = ""
    code: str = ""
    summary: str = ""
    docs: str = ""
    since: str = ""
    # Anchors in docs/prefect-semantics.md: the Prefect facts the rule, its message and its
    # fix rely on (tests/test_semantics_doc.py keeps them valid; every rule names one).
    facts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.code and not _CODE.match(self.code):
            raise ValueError(f"rule code {self.code!r} must look like PFL123")
        if self.name and not _NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be kebab-case")

    def completed(self, rule_class: str, docstring: str | None) -> RuleMeta:
        """This declaration completed from the rule class named `rule_class`, whose
        docstring is `docstring`."""
        if self.code:
            return self
        code = _CODE_OF_CLASS.get(rule_class)
        if code is None:
            raise ValueError(f"{rule_class} has no row in prefect_lint/rule_codes.py RULE_CODES")
        if not docstring:
            raise ValueError(f"{rule_class} has no docstring: its summary and docs")
        summary, _, body = inspect.cleandoc(docstring).partition("\n")
        docs, _, facts = body.partition(f"\n## {FACTS_HEADING}\n")
        return replace(
            self,
            name=self.name or kebab_case(rule_class),
            code=code,
            summary=summary,
            docs=docs.strip("\n"),
            since=RULE_CODES[code].since,
            facts=tuple(_fact_anchor(rule_class, line) for line in facts.splitlines()),
        )

    @property
    def preview(self) -> bool:
        # A rule outside the catalog (a test's own) is stable; `prefect_lint.rules` checks
        # that every registered rule is in it.
        row = RULE_CODES.get(self.code)
        return row is not None and row.preview

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
        return f"\n## {FACTS_HEADING}\nWhat Prefect does that this rule relies on:\n\n{links}\n"


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
