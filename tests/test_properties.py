"""Property tests: the engine never crashes, and its fixes are valid, idempotent and complete.

Three sources of input:
- arbitrary valid Python from hypothesmith (with "prefect" in it, so the prefilter lets it in);
- Prefect modules drawn from building blocks (`tests/strategies.py`);
- the installed `prefect` package itself.
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from prefect_lint.config import all_codes
from prefect_lint.diagnostics import (
    Applicability,
    Diagnostic,
    line_starts,
    offset_to_position,
    position_to_offset,
)
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import fix_source
from tests.strategies import prefect_modules

ALL = frozenset(all_codes())
PATH = "generated.py"
SYNTAX_ERROR = "PFL000"

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

SLOW_OK = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

# What the text under a diagnostic must look like, per rule (a check of position accuracy).
SPAN_CHECKS: dict[str, Callable[[str], bool]] = {
    "PFL101": lambda span: span.endswith(("submit", "map")),
    "PFL105": lambda span: "wait" in span or "as_completed" in span,
}


# -- helpers -----------------------------------------------------------------------------------


def compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, PATH, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
            compile(text, PATH, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def assert_positions_inside(text: str, diagnostics: list[Diagnostic]) -> None:
    """Every position names a real line and a column within it, and start <= end."""
    starts = line_starts(text)
    lines = text.splitlines() or [""]
    for diagnostic in diagnostics:
        for position in (diagnostic.start, diagnostic.end):
            assert 1 <= position.line <= max(len(lines), len(starts)), diagnostic
            line = lines[position.line - 1] if position.line <= len(lines) else ""
            assert 0 <= position.column <= len(line), diagnostic
            assert position_to_offset(starts, position) <= len(text), diagnostic
        assert diagnostic.start <= diagnostic.end, diagnostic
        if diagnostic.fix is not None:
            for edit in diagnostic.fix.edits:
                assert 0 <= edit.start <= edit.end <= len(text), diagnostic


def assert_spans_match(text: str, diagnostics: list[Diagnostic]) -> None:
    starts = line_starts(text)
    for diagnostic in diagnostics:
        check = SPAN_CHECKS.get(diagnostic.code)
        if check is None:
            continue
        span = text[
            position_to_offset(starts, diagnostic.start) : position_to_offset(
                starts, diagnostic.end
            )
        ]
        assert check(span), (diagnostic, span)


def noqa_everywhere(text: str) -> str:
    """`text` with each line's comment replaced by a bare `# noqa` (for generated code only)."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    comments = {tok.start[0]: tok.start[1] for tok in tokens if tok.type == tokenize.COMMENT}
    lines = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if number in comments:
            body = body[: comments[number]].rstrip()
        lines.append(f"{body}  # noqa{ending}")
    return "".join(lines)


def key(diagnostic: Diagnostic) -> tuple[object, ...]:
    return (diagnostic.code, diagnostic.message, diagnostic.start, diagnostic.end)


# -- 1. arbitrary valid Python -----------------------------------------------------------------

# `# prefect` passes the prefilter; the imports also give the model Prefect names to resolve.
PREFIXES = (
    "# prefect\n",
    "import prefect\nfrom prefect import flow, task\n",
    "from prefect import flow, task, wait\n",
)


# Built once: hypothesmith compiles a grammar per strategy, far too slow to do per example.
ARBITRARY_SOURCE = hypothesmith.from_grammar() | hypothesmith.from_node()


def with_prefix(source: str, prefix: str) -> str:
    return (PREFIXES[0] if "__future__" in source else prefix) + source


@settings(SLOW_OK, max_examples=150)
@given(source=ARBITRARY_SOURCE, prefix=st.sampled_from(PREFIXES))
def test_never_crashes_on_arbitrary_python(source: str, prefix: str) -> None:
    text = with_prefix(source, prefix)
    diagnostics = check_source(text, PATH, ALL, render_fixes=True)
    assert_positions_inside(text, diagnostics)
    assert diagnostics == sorted(diagnostics, key=lambda d: (d.start, d.code))
    outcome = fix_source(text, PATH, ALL, unsafe=True)
    assert_positions_inside(outcome.text, outcome.diagnostics)
    assert outcome.dropped == []
    if outcome.text != text:
        cst.parse_module(outcome.text)


# -- 2. generated Prefect modules ---------------------------------------------------------------

MODULE_SETTINGS = settings(SLOW_OK, max_examples=75)


def record_events(diagnostics: list[Diagnostic]) -> None:
    """Shown by `pytest --hypothesis-show-statistics`: which rules the examples exercised."""
    for diagnostic in diagnostics:
        fixable = diagnostic.fix_applicability.value if diagnostic.fixable else "no fix"
        event(f"{diagnostic.code} ({fixable})")


# Regression examples: cases the generator reaches only rarely.
FUTURE_IMPORT_AND_FIX = '''"""Prefect pipeline."""

from __future__ import annotations
from prefect import flow


@flow
def child(n: int = 0) -> int:
    return n


@flow
def parent():
    wait([child.submit(1)])
'''
NO_TRAILING_NEWLINE = "import prefect\n\n\n@prefect.flow\ndef c():\n    pass\n\n\nc.submit()"
CRLF = FUTURE_IMPORT_AND_FIX.replace("\n", "\r\n")


# Engine bugs found by these tests, kept as minimal regression examples.
# Both are PFL105 fixes that cannot be rendered: the diagnostic claims a safe fix (`[*]` in
# the CLI, `fix_applicability == SAFE` without `render_fixes`), but `--fix` never applies one.
# 1. (fixed in ead515c) A local import in a one-line suite: the fix replaced the
#    `SimpleStatementSuite` with a `FlattenSentinel`, which LibCST refuses (TypeError).
BUG_IMPORT_IN_ONE_LINE_SUITE = "if True: from prefect import flow, wait\n"
# 2. (fixed in 795f699) The same name moved with and without an alias: LibCST's
#    AddImportsVisitor sorted `[None, "w2"]` and raised TypeError, which `render_fix`
#    swallowed.
BUG_IMPORT_SAME_NAME_TWICE = "from prefect import flow, wait, wait as w2\n"

EXAMPLES = (
    FUTURE_IMPORT_AND_FIX,
    NO_TRAILING_NEWLINE,
    CRLF,
    BUG_IMPORT_IN_ONE_LINE_SUITE,
    BUG_IMPORT_SAME_NAME_TWICE,
)


def _examples(test):  # type: ignore[no-untyped-def]
    for text in EXAMPLES:
        test = example(text=text)(test)
    return test


def test_generated_modules_compile() -> None:
    """The generator's own contract: everything it draws is valid Python."""

    @settings(SLOW_OK, max_examples=50)
    @given(text=prefect_modules())
    def inner(text: str) -> None:
        assert compiles(text), text
        cst.parse_module(text)

    inner()


@MODULE_SETTINGS
@_examples
@given(text=prefect_modules())
def test_fixes_are_valid_idempotent_and_complete(text: str) -> None:
    """One test for the three fix properties, so each fix runs once per example.

    (a) every fix's result parses, and still compiles when the input did;
    (b) fixing the fixed text changes nothing;
    (c) after `--fix --unsafe-fixes` nothing fixable remains (after `--fix`, nothing safe).
    """
    input_compiles = compiles(text)
    for unsafe in (False, True):
        outcome = fix_source(text, PATH, ALL, unsafe=unsafe)
        record_events(outcome.diagnostics)
        # (a)
        assert outcome.dropped == []
        cst.parse_module(outcome.text)
        if input_compiles:
            assert compiles(outcome.text), outcome.text
        assert_positions_inside(outcome.text, outcome.diagnostics)
        # (b)
        again = fix_source(outcome.text, PATH, ALL, unsafe=unsafe)
        assert again.text == outcome.text
        assert not again.fixed
        assert [key(d) for d in again.diagnostics] == [key(d) for d in outcome.diagnostics]
        # (c), both as the fixer saw it and as a fresh check (without rendering) reports it
        offered = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
        remaining = check_source(outcome.text, PATH, ALL)
        assert [d for d in remaining if d.fix_applicability in offered] == []
        assert [d for d in outcome.diagnostics if d.fix_applicability in offered] == []


@MODULE_SETTINGS
@_examples
@given(text=prefect_modules())
def test_diagnostics_are_deterministic_and_consistent(text: str) -> None:
    """(d) Same input, same output; and the ways of asking agree with each other."""
    first = check_source(text, PATH, ALL, render_fixes=True)
    second = check_source(text, PATH, ALL, render_fixes=True)
    assert first == second  # fixes are rendered, so their edits are compared too
    record_events(first)

    # Rendering fixes does not change what is reported.
    plain = check_source(text, PATH, ALL)
    assert [key(d) for d in plain] == [key(d) for d in first]
    # Each rule alone reports exactly its share of the full run.
    for code in ALL - {SYNTAX_ERROR}:
        alone = check_source(text, PATH, frozenset({code}))
        assert [key(d) for d in alone] == [key(d) for d in plain if d.code == code]
    # Sorted, inside the text, and pointing at the right code.
    assert first == sorted(first, key=lambda d: (d.start, d.code))
    assert_positions_inside(text, first)
    assert_spans_match(text, first)
    # A bare noqa comment on every line silences every rule.
    silenced = noqa_everywhere(text)
    assert compiles(silenced), silenced
    assert check_source(silenced, PATH, ALL) == []


def _covered_lines(text: str, diagnostics: list[Diagnostic]) -> set[int]:
    """The lines (1-based) the diagnostics cover: each one's span, the module-level statement
    it is in (a fix may add a `wait` at the flow's exits), the lines its own fix edits (a
    flow's decorator), and the import block at the top (where imports are added)."""
    tree = ast.parse(text)
    spans = [
        (min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", []))]), s.end_lineno)
        for s in tree.body
    ]
    last_import = 0
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            last_import = statement.end_lineno or statement.lineno
        elif not (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            break
    covered = set(range(1, last_import + 2))
    starts = line_starts(text)
    for diagnostic in diagnostics:
        covered.update(range(diagnostic.start.line, diagnostic.end.line + 1))
        for first, last in spans:
            if first <= diagnostic.start.line <= (last or first):
                covered.update(range(first, (last or first) + 1))
        for edit in diagnostic.fix.edits if diagnostic.fix is not None else ():
            first_line = offset_to_position(starts, edit.start).line
            last_line = offset_to_position(starts, max(edit.start, edit.end - 1)).line
            covered.update(range(first_line, last_line + 1))
    return covered


def _changed_lines(old: str, new: str) -> list[tuple[int, int]]:
    """(first, last) old lines of each hunk that changes non-blank text; an insertion is the
    pair of lines around it."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    hunks: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if not any(line.strip() for line in old_lines[i1:i2] + new_lines[j1:j2]):
            continue  # blank lines only: difflib may place them anywhere in a run of blanks
        hunks.append((i1 + 1, i2) if i2 > i1 else (i1, i1 + 1))
    return hunks


# Found by the test below: PFL202's runner switch leaves a PFL202 of another kind (the cache
# key) on the same call, whose fix edits the task's decorator; the engine must count it as a
# finding the fix created, not as the first one still there.
SECOND_PFL202 = (
    "from prefect import flow, task\n"
    "from prefect.task_runners import ProcessPoolTaskRunner\n"
    "import threading\n\n\n@task\ndef t1(n: int = 0) -> int:\n    return n\n\n\n"
    "@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))\ndef parent1():\n"
    "    wait(f for f in [t1.submit(i) for i in range(2)]); t1.submit(threading.Lock())\n"
)


@MODULE_SETTINGS
@_examples
@example(text=SECOND_PFL202)
@given(text=prefect_modules())
def test_fixes_remove_diagnostics_and_touch_only_what_they_cover(text: str) -> None:
    """(e) After any `--fix`, the diagnostics are those before, minus the fixed ones, plus
    the ones a fix created (`introduced`, which must be new): the counts add up, so `Found N
    errors (X fixed, Y remaining)` has N = what `check` found when no fix creates a finding.
    (f) When no fix created a finding, no fix changed a line that no diagnostic covers (see
    `_covered_lines`)."""
    before = check_source(text, PATH, ALL, render_fixes=True)
    found = Counter((d.code, d.message) for d in before)
    for unsafe in (False, True):
        outcome = fix_source(text, PATH, ALL, unsafe=unsafe)
        # (e)
        introduced = Counter((d.code, d.message) for d in outcome.introduced)
        after = Counter((d.code, d.message) for d in outcome.diagnostics)
        assert after - introduced <= found, outcome.text
        codes_before = Counter(d.code for d in before)
        codes_after = Counter(d.code for d in outcome.diagnostics)
        codes_new = Counter(d.code for d in outcome.introduced)
        for code in codes_before | codes_after:
            expected = codes_before[code] - outcome.fixed[code] + codes_new[code]
            assert codes_after[code] == expected, code
        if outcome.created_findings:
            event("a fix created a finding")
            continue  # its fix's edits are nobody's: see test_no_fix_creates_a_finding
        # (f)
        covered = _covered_lines(text, before)
        for first, last in _changed_lines(text, outcome.text):
            assert covered & set(range(first, last + 1)), (first, last, outcome.text)


# Found by the test above (issue 11, item 4: a safe fix must never create a finding); the
# rules' fixes are being changed for it. PFL101's fix turns `flow.submit()` (which raises)
# into `task(flow).submit()`, whose future PFL102 then reports; PFL103's loop rewrite of a
# loop that also submits a flow does the same.
FIX_CREATES_PFL102 = (
    "import prefect\n\n\n@prefect.task\ndef t0(n: int = 0) -> int:\n    return n\n\n\n"
    "def _c1(n=0):\n    return n\n\n\nc1 = prefect.flow(_c1)\n\n\n"
    "@prefect.flow\ndef parent0():\n    x0 = c1.submit(1)\n"
)


@pytest.mark.xfail(reason="rule fixes that create findings (issue 11 item 4)", strict=False)
@MODULE_SETTINGS
@example(text=FIX_CREATES_PFL102)
@given(text=prefect_modules())
def test_no_fix_creates_a_finding(text: str) -> None:
    """The strict form of (e): no pass of `--fix` creates a diagnostic `check` did not find."""
    for unsafe in (False, True):
        assert not fix_source(text, PATH, ALL, unsafe=unsafe).created_findings


# -- names a fix must not rely on ------------------------------------------------------------

# Ways a function body binds a name (so the name is local to the whole function, even before
# the binding runs). `{n}` is the name; forms with `{call}` put the call inside the binding's
# own scope (a comprehension, a lambda, a nested function's parameter).
BINDING_FORMS = (
    "{n} = 1",
    "{n}: int = 1",
    "{n} += 1",
    "a = {n} = 1",
    "({n}, other) = (1, 2)",
    "[*{n}] = [1]",
    "del {n}",
    "for {n} in range(2):\n    pass",
    "for a, ({n}, b) in []:\n    pass",
    "with open('f') as {n}:\n    pass",
    "try:\n    pass\nexcept Exception as {n}:\n    pass",
    "if ({n} := 1):\n    pass",
    "x = [({n} := 1) for i in range(2)]",
    "import os as {n}",
    "from os import path as {n}",
    "def {n}():\n    pass",
    "async def {n}():\n    pass",
    "class {n}:\n    pass",
    "match 1:\n    case {n}:\n        pass",
    "match 1:\n    case int() as {n}:\n        pass",
    "match [1]:\n    case [*{n}]:\n        pass",
    "x = [{call} for {n} in range(2)]",
    "x = {{{n}: {call} for {n} in range(2)}}",
    "f = lambda {n}: {call}",
    "def helper({n}=None):\n    return {call}",
    "def helper(*{n}):\n    return {call}",
    "def helper(**{n}):\n    return {call}",
    "def helper(*, {n}):\n    return {call}",
)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


def function_with_binding(form: str, name: str, call: str, before: bool) -> str:
    """A function body that binds `name` (before or after `call`) and makes `call`."""
    binding = form.format(n=name, call=call)
    if "{call}" in form:
        return _indent(binding)
    lines = [binding, call] if before else [call, binding]
    return "\n".join(_indent(line) for line in lines)


@settings(SLOW_OK, max_examples=len(BINDING_FORMS) * 3)
@example(form="if ({n} := 1):\n    pass", before=True)  # engine bug 3, see the docstring
@given(form=st.sampled_from(BINDING_FORMS), before=st.booleans())
def test_fixes_respect_local_bindings(form: str, before: bool) -> None:
    """A name bound in the function is not the imported one.

    PFL101's fix writes `task(...)`: with `task` bound locally it must not be offered (or must
    spell `task` differently). PFL105 must not call a locally bound `wait` unimported.

    Engine bug 3 (fixed in ead515c and 795f699): scopes record no binding for a walrus
    target, so with `from prefect import task` and `if (task := 1): ...` in the flow, the
    unsafe fix rewrote `c.submit(1)` into `task(c).submit(1)`, which calls the int 1.
    """
    flows = "from prefect import flow, task\n\n\n@flow\ndef c(n=0):\n    return n\n\n\n"
    text = f"{flows}@flow\ndef p():\n{function_with_binding(form, 'task', 'c.submit(1)', before)}\n"
    assert compiles(text), text
    diagnostics = check_source(text, PATH, ALL)
    assert [d.code for d in diagnostics].count("PFL101") == 1, text
    fixed = fix_source(text, PATH, ALL, unsafe=True).text
    assert re.search(r"(?<![\w.])task\(c\)", fixed) is None, fixed

    body = function_with_binding(form, "wait", "wait([])", before)
    text = f"import prefect\n\n\ndef p():\n{body}\n"
    assert compiles(text), text
    assert [d for d in check_source(text, PATH, ALL) if d.code == "PFL105"] == [], text


# -- 3. real code: the installed prefect package ------------------------------------------------

MAX_REAL_FILES = 300


def test_installed_prefect_package() -> None:
    prefect = pytest.importorskip("prefect")
    root = Path(prefect.__file__).resolve().parent
    files = sorted(root.rglob("*.py"))[:MAX_REAL_FILES]
    assert files
    problems: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        assert_positions_inside(text, check_source(text, str(path), ALL))
        outcome = fix_source(text, str(path), ALL, unsafe=True)
        problems.extend(outcome.dropped)
        assert_positions_inside(outcome.text, outcome.diagnostics)
        if outcome.text != text:
            cst.parse_module(outcome.text)
    assert problems == []
