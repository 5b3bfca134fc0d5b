"""Apply fixes until nothing more applies: check, apply compatible edits, re-parse, repeat.

What `--fix` counts as fixed are diagnostics, not fixes or edits: each diagnostic of the
first check is followed through the edits of every pass (its offset moves with the text), and
it is fixed when no diagnostic of the final check is it. One fix can resolve several
diagnostics (three unwaited futures, one `wait`), and a diagnostic a fix created and a later
pass fixed was never found by `check`, so it is not counted: `check`, `--fix` and `--diff`
then agree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import libcst as cst

from prefect_lint.diagnostics import (
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    line_starts,
    position_to_offset,
)
from prefect_lint.engine.checker import SYNTAX_ERROR, check_source, may_involve_prefect
from prefect_lint.engine.report import Outcome
from prefect_lint.engine.source import python_parses
from prefect_lint.fixes.edits import apply_edits, select_compatible
from prefect_lint.model.api import UserDecorators
from prefect_lint.model.project import ProjectIndex
from prefect_lint.model.target import Target

MAX_ITERATIONS = 20


@dataclass
class FixOutcome(Outcome):
    # Diagnostics of the final text that the first check did not report (a fix created them).
    introduced: list[Diagnostic] = field(default_factory=list)
    # Whether some pass created a finding, even one a later pass fixed.
    created_findings: bool = False


def map_offset(offset: int, edits: list[Edit]) -> int:
    """Where `offset` of the old text is after `edits` (sorted, non-overlapping); a point
    inside a replaced span goes to the start of its replacement."""
    shift = 0
    for edit in edits:
        if edit.end <= offset:
            # Ends before the point, or inserts right at it: the point moves past it.
            shift += len(edit.content) - (edit.end - edit.start)
        elif edit.start <= offset:
            return edit.start + shift
        else:
            break
    return offset + shift


class _Tracker:
    """Follows the first check's diagnostics through the passes of edits."""

    def __init__(self, text: str, diagnostics: list[Diagnostic]) -> None:
        starts = line_starts(text)
        self.found = list(diagnostics)
        # Index in `found` -> offset in the current text, for those still reported.
        self.alive = {i: position_to_offset(starts, d.start) for i, d in enumerate(diagnostics)}
        self.introduced: list[Diagnostic] = []
        self.created_findings = False

    def update(self, edits: list[Edit], text: str, diagnostics: list[Diagnostic]) -> None:
        """`edits` turned the previous text into `text`, which reports `diagnostics`."""
        ordered = sorted(edits, key=lambda e: (e.start, e.end))
        mapped = {i: map_offset(offset, ordered) for i, offset in self.alive.items()}
        # The same finding: same code and message, where the edits moved it.
        moved: dict[tuple[int, str, str], list[int]] = {}
        for i, offset in mapped.items():
            found = self.found[i]
            moved.setdefault((offset, found.code, found.message), []).append(i)
        starts = line_starts(text)
        alive: dict[int, int] = {}
        unmatched: list[tuple[int, Diagnostic]] = []
        for diagnostic in diagnostics:
            offset = position_to_offset(starts, diagnostic.start)
            same = moved.get((offset, diagnostic.code, diagnostic.message))
            if same:
                alive[same.pop(0)] = offset
            else:
                unmatched.append((offset, diagnostic))
        left = [i for indices in moved.values() for i in indices]
        self.introduced = []
        for offset, diagnostic in unmatched:
            # Moved by more than the edits explain (its node was rewritten): the same code
            # and message, the nearest first.
            candidates = [
                i
                for i in left
                if self.found[i].code == diagnostic.code
                and self.found[i].message == diagnostic.message
            ]
            if candidates:
                same_index = min(candidates, key=lambda i: abs(mapped[i] - offset))
                alive[same_index] = offset
                left.remove(same_index)
            else:
                self.introduced.append(diagnostic)
        self.alive = alive
        self.created_findings = self.created_findings or bool(self.introduced)

    def fixed(self) -> Counter[str]:
        return Counter(d.code for i, d in enumerate(self.found) if i not in self.alive)


class _Validator:
    """A fixed text must parse for LibCST, and for Python too if the original did."""

    def __init__(self, original: str) -> None:
        self._original = original
        self._check_python: bool | None = None  # asked on first need: most files need none

    def python(self, text: str) -> bool:
        """Python's half of the verdict (fast: the check that follows parses with LibCST)."""
        if self._check_python is None:
            self._check_python = python_parses(self._original)
        return not self._check_python or python_parses(text)

    def __call__(self, text: str) -> bool:
        try:
            cst.parse_module(text)
        except (cst.ParserSyntaxError, RecursionError, MemoryError):
            return False
        return self.python(text)


def _broken(text: str, diagnostics: list[Diagnostic], valid: _Validator) -> bool:
    if any(d.code == SYNTAX_ERROR for d in diagnostics):
        return True
    # Text the prefilter turned away was never parsed: ask LibCST directly.
    return not diagnostics and not may_involve_prefect(text) and not valid(text)


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
    dropped: list[str] = []
    banned: set[tuple[str, str]] = set()
    cleanup: set[tuple[str, str | None]] = set()

    def recheck(text: str) -> list[Diagnostic]:
        return check_source(
            text, path, codes, render_fixes=True, index=index, target=target, decorators=decorators
        )

    diagnostics = recheck(text)
    tracker = _Tracker(text, diagnostics)
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
        # The check of the fixed text parses it anyway: its PFL000 is LibCST's verdict.
        new_diagnostics = recheck(new_text) if valid.python(new_text) else None
        if new_diagnostics is None or _broken(new_text, new_diagnostics, valid):
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
            new_diagnostics = recheck(new_text)
        for fix in chosen:
            cleanup.update(fix.unused_imports)
        applied = [edit for fix in chosen for edit in fix.edits]
        text = new_text
        diagnostics = new_diagnostics
        tracker.update(applied, text, diagnostics)
    if cleanup:
        # Imports a fix made unused are removed once all fixes are in: while a later fix
        # was still pending, the name was in use.
        from prefect_lint.fixes.edits import diff_edits
        from prefect_lint.fixes.render import remove_unused_imports

        cleaned = remove_unused_imports(text, sorted(cleanup, key=lambda i: (i[0], i[1] or "")))
        if cleaned != text and valid(cleaned):
            edits = diff_edits(text, cleaned)
            text = cleaned
            diagnostics = recheck(text)
            tracker.update(edits, text, diagnostics)
    return FixOutcome(
        text=text,
        diagnostics=diagnostics,
        fixed=tracker.fixed(),
        dropped=dropped,
        introduced=tracker.introduced,
        created_findings=tracker.created_findings,
    )
