"""Check one file: prefilter -> parse -> model -> all rules in one walk -> diagnostics."""

from __future__ import annotations

import ast
import gc
import re
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.diagnostics import Diagnostic, Position
from prefect_lint.engine.context import FutureUseMarker, RuleContext
from prefect_lint.engine.noqa import is_suppressed, suppressed_codes
from prefect_lint.engine.positions import node_position, statement_ranges
from prefect_lint.engine.report import FileReport as FileReport  # re-exported
from prefect_lint.engine.walker import Walker
from prefect_lint.model.api import NO_USER_DECORATORS, UserDecorators
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.precheck import Precheck
from prefect_lint.model.project import ProjectIndex
from prefect_lint.model.relevance import file_facts, project_names
from prefect_lint.model.target import LATEST, Target
from prefect_lint.python_ast import python_tree
from prefect_lint.rules import VISITOR_RULES
from prefect_lint.rules.base import SyntaxErrorRule

if TYPE_CHECKING:
    from prefect_lint.fixes.render import RenderSession

SYNTAX_ERROR = SyntaxErrorRule.meta.code


# Without a `prefect` mention, flows and tasks can only come from other project modules or
# configured wrappers; the futures rules then need one of these calls to have anything to say.
_FUTURE_CALLS = (".submit(", ".map(", ".result(")


def may_involve_prefect(text: str, decorators: UserDecorators = NO_USER_DECORATORS) -> bool:
    """The text prefilter: a file that cannot trip a rule is never parsed."""
    return (
        "prefect" in text
        or any(call in text for call in _FUTURE_CALLS)
        or decorators.mentioned_in(text)
    )


def _reporting_codes(
    source: str,
    path: str,
    codes: frozenset[str],
    decorators: UserDecorators,
    index: ProjectIndex | None,
    target: Target | None,
    tree: ast.Module | None = None,
) -> tuple[frozenset[str], ast.Module | None]:
    """The enabled codes whose rules may report on the file: each rule's trigger, decided
    from `ast` before LibCST builds a tree (model/precheck.py). A rule whose trigger says no
    reports nothing there, so it does not run either. A file Python rejects, or one LibCST
    might choke on, goes the full way with every code, which reports why.

    Also the file's `ast` tree, when there is one (positions read statement lines from it)."""
    if _suspicious(source):
        return codes, tree
    if tree is None:
        tree = python_tree(source)
    facts = file_facts(source, tree) if tree is not None else None
    if tree is None or facts is None or facts.opaque:
        return codes, tree
    version = (target or LATEST).prefect_version
    rules = [r for r in VISITOR_RULES if r.meta.code in codes and version in r.meta.versions]

    def project() -> bool:
        return index is not None and index.reaches_prefect(project_names(facts, decorators), path)

    precheck = Precheck(tree, facts, decorators, project)
    return frozenset(rule.meta.code for rule in rules if rule.trigger(precheck)), tree


def _rejected_by_python(source: str) -> Diagnostic | None:
    """Python's verdict on a suspicious file: its SyntaxError, or a note that it is nested
    too deeply to analyse (Python itself gives up with RecursionError or MemoryError)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError:
        return _python_syntax_error(source)
    except (RecursionError, MemoryError, ValueError) as error:
        message = f"cannot parse: {type(error).__name__} (the file is too deeply nested)"
        return Diagnostic(SYNTAX_ERROR, message, Position(1, 0), Position(1, 0))
    return None


def _python_syntax_error(source: str) -> Diagnostic | None:
    """Python's own SyntaxError (what the user sees at import time), if it has one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError as error:
        line = max(error.lineno or 1, 1)
        column = max((error.offset or 1) - 1, 0)
        position = Position(line, column)
        return Diagnostic(SYNTAX_ERROR, f"SyntaxError: {error.msg}", position, position)
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


# Shapes that can crash LibCST's native parser (stack overflow) or make it run for minutes:
# long runs of brackets or unary operators, chains of lambdas, and very long lines (sums,
# attribute or call chains of many thousands of links). Python's own parser rejects such files
# quickly, so they are checked with it first; every other file skips that cost. Each shape is
# searched alone, so that the regular expression engine skips ahead to the characters that can
# start a match (measured: a third of the time of one alternation of all three).
_BRACKETS = re.compile(r"[(\[{][\s(\[{]{99}")
_UNARY = re.compile(r"[-+~][\s\-+~]{99}")
_LONG_LINE = 5000
_CHAINED = re.compile(r"(?:\blambda\b[^:\n]{0,20}:\s*){100}|(?:\bnot\s+){100}")


def _suspicious(source: str) -> bool:
    if _BRACKETS.search(source) or _UNARY.search(source):
        return True
    if len(source) >= _LONG_LINE and max(map(len, source.split("\n"))) >= _LONG_LINE:
        return True
    return (source.count("lambda") >= 100 or source.count("not ") >= 100) and bool(
        _CHAINED.search(source)
    )


def parse(source: str) -> cst.Module | Diagnostic:
    if _suspicious(source):
        rejected = _rejected_by_python(source)
        if rejected is not None:
            return rejected
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        python_error = _python_syntax_error(source)
        if python_error is not None:
            return python_error
        # Python accepts it but LibCST does not (syntax newer than LibCST knows).
        position = Position(max(error.raw_line, 1), max(error.raw_column, 0))
        message = f"cannot be parsed by LibCST: {' '.join(error.message.split())}"
        return Diagnostic(SYNTAX_ERROR, message, position, position)
    except (RecursionError, MemoryError) as error:
        message = f"cannot parse: {type(error).__name__} (the file is too deeply nested)"
        return Diagnostic(SYNTAX_ERROR, message, Position(1, 0), Position(1, 0))


def _run_rules(
    model: ModuleModel, codes: frozenset[str], target: Target | None, *, iterative: bool
) -> RuleContext:
    context = RuleContext(model.path or "-", model.module, model)
    context.target = target or LATEST
    version = context.target.prefect_version
    walker = Walker(
        [
            FutureUseMarker(context),
            *(
                rule(context)
                for rule in VISITOR_RULES
                # A rule that cannot be true for the target does not even run.
                if rule.meta.code in codes and version in rule.meta.versions
            ),
        ]
    )
    context.ancestors = walker.ancestors
    context.walker = walker
    try:
        if iterative:
            walker.walk_iterative(model.module)
        else:
            walker.walk(model.module)
    finally:
        # The context holds the walker, which holds the rules, which hold the context: a
        # cycle keeping the whole tree alive until the next full collection (measured: all
        # of a run's trees). Cut it, and the tree goes as soon as the file is done.
        context.walker = None
    return context


@contextmanager
def _no_full_collections() -> Iterator[None]:
    """No full garbage collection while one file is analysed.

    A full collection scans every object alive (the imported modules, the whole tree) and
    CPython starts one whenever the long-lived heap has grown by a quarter, which a big file's
    tree does again and again: on a generated 8k-line module it was a third of the run and
    made the per-line cost grow with the file. Young collections still run. The file's own
    cycles wait for the next full collection after it, so memory stays bounded by one file
    (measured: the same peak RSS, 143 MiB on 8k lines of flows, as with collections on).
    """
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, 1 << 30)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


@_no_full_collections()
def check_source(
    source: str,
    path: str,
    codes: frozenset[str],
    *,
    render_fixes: bool = False,
    apply_noqa: bool = True,
    index: ProjectIndex | None = None,
    target: Target | None = None,
    decorators: UserDecorators | None = None,
    render_only: Collection[tuple[str, Position]] | None = None,
    tree: ast.Module | None = None,
    precheck: bool = True,
) -> list[Diagnostic]:
    """Diagnostics for one file's text, sorted by position; `codes` are the enabled rules.

    `render_only` limits `render_fixes` to the diagnostics with these (code, start): rendering
    a fix rewrites the whole module, so an editor asks for the one fix it is about to apply.
    `tree`: the text's `ast` parse, when the caller has one (flake8 hands its own to plugins),
    so that the relevance check does not parse it again.
    `precheck=False` skips the rules' triggers and runs every enabled rule: the same findings
    (a trigger's "no" means its rule reports nothing), for a caller that expects the file to
    be parsed anyway. The editor re-checking a document that had findings is one: there the
    triggers cost more than the rules they would leave out (a 1,000-line flow: 40 ms).
    """
    if decorators is None:
        decorators = index.decorators if index is not None else NO_USER_DECORATORS
    if not may_involve_prefect(source, decorators) and not (
        index is not None and index.imports_prefect_code(source, path)
    ):
        return []
    model = index.model_of_text(path, source) if index is not None else None
    if model is None and precheck:
        codes, tree = _reporting_codes(source, path, codes, decorators, index, target, tree)
    silent = not codes
    if silent and (index is None or not index.summarizes_every_text):
        return []
    if isinstance(model, ModuleModel):
        module = model.module
    else:
        parsed = parse(source)
        if isinstance(parsed, Diagnostic):
            return [] if silent else [parsed]
        module = parsed
        model = ModuleModel(module, path, index, decorators)
    model.source = source
    if index is not None:
        index.preload(model)
        index.remember(path, model)
    if silent or not any(rule.meta.code in codes for rule in VISITOR_RULES):
        return []
    try:
        context = _run_rules(model, codes, target, iterative=False)
    except RecursionError:
        # Start over with fresh rule state: a half-finished walk must not report twice.
        context = _run_rules(
            ModuleModel(module, path, index, decorators), codes, target, iterative=True
        )
    if not context.reports:
        return []

    lines = source.splitlines() if apply_noqa and "noqa" in source.lower() else None
    statements = {id(r.statement): r.statement for r in context.reports}.values()
    ranges = statement_ranges(module, source, statements, tree)
    diagnostics: list[Diagnostic] = []
    session: RenderSession | None = None
    for report in context.reports:
        start, end = node_position(ranges, report.node)
        if (
            lines is not None
            and start.line <= len(lines)
            and is_suppressed(report.meta.code, suppressed_codes(lines[start.line - 1]))
        ):
            continue
        fix = report.fix
        # Without a fix for this shape, the help line still names the rule's usual remedy.
        declared = fix if fix is not None else report.meta.fix
        diagnostic = Diagnostic(
            code=report.meta.code,
            message=report.message,
            start=start,
            end=end,
            fix_title=declared.title if declared is not None else None,
            fix_applicability=fix.applicability if fix is not None else None,
        )
        if (
            render_fixes
            and report.fix is not None
            and (render_only is None or (diagnostic.code, start) in render_only)
        ):
            # Imported here: LibCST's codemod helpers cost ~0.4 s to import.
            from prefect_lint.fixes.render import RenderSession, render_fix

            if session is None:
                session = RenderSession(module, source, path)
            diagnostic.fix = render_fix(module, source, report.fix, session, report.statement)
            if diagnostic.fix is None:
                diagnostic.fix_applicability = None
        diagnostics.append(diagnostic)
    diagnostics.sort(key=lambda d: (d.start, d.code))
    return diagnostics
