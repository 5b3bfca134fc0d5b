"""PFL105 wait-import: `wait` / `as_completed` taken from `prefect` or not imported at all."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability, FixAvailability
from prefect_lint.model import api, precheck
from prefect_lint.model.scopes import import_module_name
from prefect_lint.model.values import Dotted
from prefect_lint.rules.base import CstFix, FixMeta, ImportRequest, Rule, RuleMeta
from prefect_lint.versions import PREFECT_3

_FROM_PREFECT = frozenset(f"prefect.{name}" for name in api.FUTURES_ONLY)
_GUARDING_EXCEPTIONS = frozenset(
    {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
)


def _alias_name(alias: cst.ImportAlias) -> str | None:
    return alias.name.value if isinstance(alias.name, cst.Name) else None


def _local_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _alias_name(alias)


def _remaining(node: cst.ImportFrom, removed: list[cst.ImportAlias]) -> cst.ImportFrom | None:
    """The import without the `removed` aliases (None when none is left).

    In a parenthesised import every comment on a kept name stays with it: a name's trailing
    comment lives in the whitespace after its comma, and full-line comments after a removed
    name move up to the name (or parenthesis) before it.
    """
    assert not isinstance(node.names, cst.ImportStar)
    names = list(node.names)
    kept = [alias for alias in names if alias not in removed]
    if not kept:
        return None
    if node.lpar is None:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return node.with_changes(names=kept)
    lpar, rpar = node.lpar, node.rpar
    kept = []
    carried: list[cst.EmptyLine] = []
    for alias in names:
        if alias in removed:
            carried.extend(_lines_after(alias))
            continue
        if carried and kept:
            kept[-1] = _with_lines_after(kept[-1], carried)
        elif carried and isinstance(lpar.whitespace_after, cst.ParenthesizedWhitespace):
            ws = lpar.whitespace_after
            lpar = lpar.with_changes(
                whitespace_after=ws.with_changes(empty_lines=[*ws.empty_lines, *carried])
            )
        carried = []
        kept.append(alias)
    last, original_last = kept[-1], names[-1]
    if last is not original_last:
        # The new last name takes over the layout before `)`, keeping its own comment.
        last_comma = last.comma if isinstance(last.comma, cst.Comma) else None
        own = last_comma.whitespace_after if last_comma is not None else None
        tail = (
            original_last.comma.whitespace_after
            if isinstance(original_last.comma, cst.Comma)
            else None
        )
        if isinstance(own, cst.ParenthesizedWhitespace) and isinstance(
            tail, cst.ParenthesizedWhitespace
        ):
            ws = own.with_changes(
                empty_lines=[*own.empty_lines, *carried], last_line=tail.last_line
            )
            assert last_comma is not None  # `own` is its whitespace
            last = last.with_changes(comma=last_comma.with_changes(whitespace_after=ws))
        elif isinstance(own, cst.ParenthesizedWhitespace) and rpar is not None:
            # No trailing comma before: keep this name's comma (and comment); the newline
            # before `)` is already in it.
            closing = rpar.whitespace_before
            indent = (
                closing.last_line
                if isinstance(closing, cst.ParenthesizedWhitespace)
                else cst.SimpleWhitespace("")
            )
            ws = own.with_changes(empty_lines=[*own.empty_lines, *carried], last_line=indent)
            assert last_comma is not None  # `own` is its whitespace
            last = last.with_changes(comma=last_comma.with_changes(whitespace_after=ws))
            rpar = rpar.with_changes(whitespace_before=cst.SimpleWhitespace(""))
        else:
            last = last.with_changes(comma=original_last.comma)
        kept[-1] = last
    return node.with_changes(names=kept, lpar=lpar, rpar=rpar)


def _lines_after(alias: cst.ImportAlias) -> list[cst.EmptyLine]:
    """Full-line comments after an alias (before the next one)."""
    comma = alias.comma
    if isinstance(comma, cst.Comma) and isinstance(
        comma.whitespace_after, cst.ParenthesizedWhitespace
    ):
        return [line for line in comma.whitespace_after.empty_lines if line.comment is not None]
    return []


def _with_lines_after(alias: cst.ImportAlias, lines: list[cst.EmptyLine]) -> cst.ImportAlias:
    comma = alias.comma
    if isinstance(comma, cst.Comma) and isinstance(
        comma.whitespace_after, cst.ParenthesizedWhitespace
    ):
        ws = comma.whitespace_after
        ws = ws.with_changes(empty_lines=[*ws.empty_lines, *lines])
        return alias.with_changes(comma=comma.with_changes(whitespace_after=ws))
    return alias


class WaitImport(Rule):
    """`wait` and `as_completed` live in `prefect.futures`

    ## What it does
    Checks for `wait` and `as_completed` imported from the top-level `prefect` package
    (`from prefect import wait`), used as attributes of it (`prefect.wait(...)`), or called
    without any import in a module that uses Prefect.

    ## Why is this bad?
    Prefect exports neither name from its top-level package in any 3.x release; they live in
    `prefect.futures`. The import fails with
    `ImportError: cannot import name 'wait' from 'prefect'`, `prefect.wait` raises
    `AttributeError: module prefect has no attribute wait`, and a call with no import raises
    `NameError`. The whole module fails before any flow runs.

    Imports inside a `try:` that catches `ImportError` are compatibility shims and are not
    flagged. `wait` functions from `asyncio` or `concurrent.futures` are not affected.

    ## Example
    ```python
    from prefect import flow, task, wait


    @task
    def double(n: int) -> int:
        return n * 2


    @flow
    def parent() -> None:
        futures = [double.submit(n) for n in range(3)]
        wait(futures)
    ```

    ## Use instead
    ```python
    from prefect import flow, task
    from prefect.futures import wait

    # ... (the rest as in the Example)
    ```

    ## Fix safety
    The fix is safe: it imports the same function from the module that defines it, keeping any
    alias (`import ... as`), and merges with an existing `from prefect.futures import ...`.
    In a parenthesised `from prefect import (...)` the other names keep their comments, trailing
    or on their own line; a comment on the moved name itself is dropped with it. The module,
    which could not be imported, now imports; nothing else changes.

    ## Versions
    Prefect 2 has no `wait` or `as_completed` at all (2.20.17: `from prefect import wait` raises
    `ImportError`, and `prefect.futures` has neither): the fix would import a name that does not
    exist there, so the rule is silent on 2.x targets. Both names are in `prefect.futures` from
    3.0.0 on.

    ## Prefect facts
    - wait-lives-in-prefect-futures
    - entrypoints-are-imported
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(
            title="Import from `prefect.futures`",
            safety=Applicability.SAFE,
            availability=FixAvailability.ALWAYS,
        ),
    )
    trigger = precheck.Trigger(
        "`prefect.wait` / `prefect.as_completed` named, or a bare `wait(...)` call in a module "
        "naming Prefect (or project values)",
        lambda pre: (
            pre.named(_FROM_PREFECT)
            or (
                precheck.calls_unbound(pre, api.FUTURES_ONLY)
                and (
                    pre.any_name(lambda name: precheck.is_family(pre, name)) or pre.project_values()
                )
            )
        ),
    )

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self._unimported_calls: list[tuple[cst.Call, str, cst.CSTNode]] = []

    # -- `from prefect import wait` -------------------------------------------------------

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if import_module_name(node) != "prefect" or isinstance(node.names, cst.ImportStar):
            return
        bad = [a for a in node.names if _alias_name(a) in api.FUTURES_ONLY]
        if not bad or self._inside_import_guard():
            return
        fix = self._import_fix(node, bad)
        for alias in bad:
            name = _alias_name(alias)
            message = (
                f"`from prefect import {name}` raises ImportError: cannot import name "
                f"'{name}' from 'prefect'; import it from `prefect.futures`"
            )
            self.report(alias, message, fix=fix)

    def _inside_import_guard(self) -> bool:
        ancestors = self.context.ancestors
        for index, node in enumerate(ancestors):
            if not isinstance(node, (cst.Try, cst.TryStar)):
                continue
            child = ancestors[index + 1] if index + 1 < len(ancestors) else None
            if child is not node.body:
                continue
            for handler in node.handlers:
                if handler.type is None or _catches_import_error(handler.type):
                    return True
        return False

    def _import_fix(self, node: cst.ImportFrom, bad: list[cst.ImportAlias]) -> CstFix:
        futures_module = cst.parse_expression("prefect.futures")
        assert isinstance(futures_module, cst.Attribute)
        remaining = _remaining(node, bad)
        replacements: dict[
            cst.CSTNode, cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]
        ]
        imports: list[ImportRequest] = []
        if remaining is None:
            # Every name moves: the statement just changes its module.
            replacements = {node: node.with_changes(module=futures_module)}
        elif len(self.context.ancestors) == 2 and len({_alias_name(a) for a in bad}) == len(bad):
            # At module level the moved names merge into the module's imports. (LibCST's
            # merging cannot take one name both plain and aliased: that case is split below.)
            replacements = {node: remaining}
            for alias in bad:
                name, local = _alias_name(alias) or "", _local_name(alias)
                imports.append(
                    ImportRequest("prefect.futures", name, local if local != name else None)
                )
        else:
            # Nested (in a function or a one-line suite): a second import right after it.
            moved = [alias.with_changes(comma=cst.MaybeSentinel.DEFAULT) for alias in bad]
            moved_import = cst.ImportFrom(module=futures_module, names=moved)
            kept_import = remaining
            line = self.context.ancestors[-1]
            if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
                # Alone on its line: the new import goes on the next line.
                kept_line = line.with_changes(body=[kept_import])
                moved_line = cst.SimpleStatementLine(body=[moved_import])
                replacements = {line: cst.FlattenSentinel([kept_line, moved_line])}
            else:
                replacements = {node: cst.FlattenSentinel([kept_import, moved_import])}
        return self.fix(replacements, imports)

    # -- `prefect.wait(...)` ----------------------------------------------------------------

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = node.attr.value
        if name not in api.FUTURES_ONLY:
            return
        if self.context.evaluate(node.value, node) != Dotted("prefect"):
            return
        fixed = node.with_changes(value=cst.Attribute(value=node.value, attr=cst.Name("futures")))
        message = (
            f"`prefect.{name}` raises AttributeError: module prefect has no attribute "
            f"{name}; use `prefect.futures.{name}`"
        )
        fix = self.fix({node: fixed})
        self.report(node, message, fix=fix)

    # -- `wait(...)` with no import at all ----------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Name)
            and func.value in api.FUTURES_ONLY
            and not self.context.model.is_bound(func.value, self.context.scope(node))
        ):
            statement = self.context.statement_of(node)
            self._unimported_calls.append((node, func.value, statement))

    def leave_Module(self, node: cst.Module) -> None:
        if not self._unimported_calls or not self._module_imports_prefect():
            return
        for call, name, statement in self._unimported_calls:
            if name in self.context.model.walrus_names:
                continue
            message = (
                f"`{name}` is never imported: NameError at runtime; "
                f"import it from `prefect.futures`"
            )
            fix = self.fix({}, [ImportRequest("prefect.futures", name)])
            self.report(call.func, message, fix=fix, statement=statement)

    def _module_imports_prefect(self) -> bool:
        model = self.context.model
        return any(
            api.is_prefect_name(value.name)
            for name in model.module_scope.bindings
            if isinstance(value := model.lookup(name, model.module_scope), Dotted)
        )


def _catches_import_error(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in _GUARDING_EXCEPTIONS
    if isinstance(expr, cst.Tuple):
        return any(_catches_import_error(element.value) for element in expr.elements)
    return False
