"""What a rule is: one metadata record plus a small visitor that reports through its context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import libcst as cst

from prefect_lint.engine.context import RuleContext
from prefect_lint.fixes.statements import InsertStatements
from prefect_lint.model.precheck import Trigger
from prefect_lint.records import CstFix, FixMeta, ImportRequest, RuleMeta
from prefect_lint.tree import Replacement
from prefect_lint.versions import ALL_VERSIONS, VersionRange

# Rules import their records from here, beside the base class they extend.
__all__ = ["CstFix", "FixMeta", "ImportRequest", "Rule", "RuleMeta", "SyntaxErrorRule", "Trigger"]


class Rule:
    """Base class: subclasses set `meta` and define `visit_<Node>` / `leave_<Node>` methods.

    A rule's docstring is its documentation: the summary line, then the sections of
    `records.DOC_SECTIONS` and the `## Prefect facts` list (see `RuleMeta`)."""

    meta: ClassVar[RuleMeta]
    # When the rule can report at all, decided before LibCST parses the file
    # (model/precheck.py). Every rule states its own or inherits its base's (the
    # FunctionFactsRule rules); tests/test_precheck.py checks it.
    trigger: ClassVar[Trigger]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # A shared base (`MovedNameRule`) declares no `meta`: it is no rule itself.
        declared: RuleMeta | None = vars(cls).get("meta")
        if declared is not None:
            cls.meta = declared.completed(cls.__name__, cls.__doc__)

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
    ) -> None:
        """Report `node`, which is (or is inside) the node being visited or left.

        Reporting later (from `leave_Module`, say), pass `statement`: the module-level
        statement `context.statement_of(node)` gave while that node was visited.

        `versions` narrows the rule's own range for this one report (a row of a table-driven
        rule); the engine drops the report, and so its fix, outside it."""
        self.context.report(
            self.meta,
            node,
            message or self.meta.summary,
            fix,
            statement,
            versions=versions,
        )

    def fix(
        self,
        replacements: Mapping[cst.CSTNode, Replacement],
        imports: Sequence[ImportRequest] = (),
        *,
        transformer: InsertStatements | None = None,
    ) -> CstFix:
        """This rule's fix for one finding, titled and rated by its metadata (`meta.fix`), as
        Fixit's `report(replacement=...)` does; pass it to `report`."""
        if self.meta.fix is None:
            raise TypeError(f"{self.meta.code} declares no fix: it offers none")
        return self.meta.fix.build(replacements, imports, transformer=transformer)


class SyntaxErrorRule(Rule):
    """file does not parse

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

    ## Prefect facts
    - entrypoints-are-imported
    """

    # Emitted by the engine itself when a file does not parse. Its name predates the
    # class name's (`syntax-error-rule`) and names are never changed.
    meta = RuleMeta(name="syntax-error", versions=ALL_VERSIONS)
