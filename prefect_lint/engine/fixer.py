"""Apply fixes until nothing more applies: check, apply compatible edits, re-parse, repeat."""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from dataclasses import dataclass, field

import libcst as cst

from prefect_lint.diagnostics import Applicability, Diagnostic, Fix
from prefect_lint.engine.checker import check_source
from prefect_lint.fixes.edits import apply_edits, select_compatible
from prefect_lint.model.api import UserDecorators
from prefect_lint.model.project import ProjectIndex
from prefect_lint.model.target import Target

MAX_ITERATIONS = 20


@dataclass
class FixOutcome:
    text: str
    diagnostics: list[Diagnostic]
    fixed: Counter[str] = field(default_factory=Counter)
    # One line per fix that was dropped because its result did not parse.
    dropped: list[str] = field(default_factory=list)


def _python_parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


class _Validator:
    """A fixed text must parse for LibCST, and for Python too if the original did."""

    def __init__(self, original: str) -> None:
        self._check_python = _python_parses(original)

    def __call__(self, text: str) -> bool:
        try:
            cst.parse_module(text)
        except (cst.ParserSyntaxError, RecursionError, MemoryError):
            return False
        return not self._check_python or _python_parses(text)


def fix_source(
    source: str,
    path: str,
    codes: frozenset[str],
    *,
    unsafe: bool = False,
    index: ProjectIndex | None = None,
    target: Target | None = None,
    decorators: UserDecorators | None = None,
) -> FixOutcome:
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    valid = _Validator(source)
    text = source
    fixed: Counter[str] = Counter()
    dropped: list[str] = []
    banned: set[tuple[str, str]] = set()
    cleanup: set[tuple[str, str]] = set()
    diagnostics = check_source(
        text, path, codes, render_fixes=True, index=index, target=target, decorators=decorators
    )
    for _ in range(MAX_ITERATIONS):
        candidates: dict[int, tuple[Diagnostic, Fix]] = {}
        for diagnostic in diagnostics:
            fix = diagnostic.fix
            if fix is None or not fix.edits or fix.applicability not in allowed:
                continue
            if (diagnostic.code, diagnostic.message) in banned:
                continue
            candidates[id(fix)] = (diagnostic, fix)
        if not candidates:
            break
        chosen = select_compatible(fix for _, fix in candidates.values())
        new_text = apply_edits(text, [edit for fix in chosen for edit in fix.edits])
        if not valid(new_text):
            # Find the fixes that break the file on their own and drop them for good.
            good: list[Fix] = []
            for fix in chosen:
                diagnostic = candidates[id(fix)][0]
                if valid(apply_edits(text, fix.edits)):
                    good.append(fix)
                else:
                    banned.add((diagnostic.code, diagnostic.message))
                    dropped.append(
                        f"{path}:{diagnostic.start.line}:{diagnostic.start.column + 1}: "
                        f"fix for {diagnostic.code} produced code that does not parse; "
                        "it was not applied (please report this)"
                    )
            chosen = good[:1]
            if not chosen:
                continue
            new_text = apply_edits(text, chosen[0].edits)
        for fix in chosen:
            fixed[candidates[id(fix)][0].code] += 1
            cleanup.update(fix.unused_imports)
        text = new_text
        diagnostics = check_source(
            text, path, codes, render_fixes=True, index=index, target=target, decorators=decorators
        )
    if cleanup:
        # Imports a fix made unused are removed once all fixes are in: while a later fix
        # was still pending, the name was in use.
        from prefect_lint.fixes.render import remove_unused_imports

        cleaned = remove_unused_imports(text, sorted(cleanup))
        if cleaned != text and valid(cleaned):
            text = cleaned
            diagnostics = check_source(
                text,
                path,
                codes,
                render_fixes=True,
                index=index,
                target=target,
                decorators=decorators,
            )
    return FixOutcome(text=text, diagnostics=diagnostics, fixed=fixed, dropped=dropped)
