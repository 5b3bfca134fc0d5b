"""`--add-noqa`: suppress every current finding in place, to adopt the linter on a large
codebase and fix the findings later (ruff's option of the same name)."""

from __future__ import annotations

import io
import tokenize
from collections import defaultdict
from collections.abc import Sequence

from prefect_lint.diagnostics import IO_ERROR
from prefect_lint.engine.markdown import is_markdown, split_lines
from prefect_lint.engine.noqa import is_suppressed, suppressed_codes, suppression_edit
from prefect_lint.engine.notebook import is_notebook
from prefect_lint.engine.report import FileReport
from prefect_lint.engine.source import SourceError, read_source, write_atomic

# Neither can be suppressed: a file that does not parse or cannot be read is never skipped.
_UNSUPPRESSIBLE = frozenset({"PFL000", IO_ERROR})
_MULTILINE_TOKENS = {tokenize.STRING}
if hasattr(tokenize, "FSTRING_MIDDLE"):  # Python 3.12+
    _MULTILINE_TOKENS.add(tokenize.FSTRING_MIDDLE)


def _lines_inside_strings(text: str) -> set[int]:
    """Lines (1-based) whose end is inside a string: a comment there would become text."""
    inside: set[int] = set()
    fstring_starts: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind in _MULTILINE_TOKENS and token.start[0] < token.end[0]:
                inside.update(range(token.start[0], token.end[0]))
            elif getattr(tokenize, "FSTRING_START", None) == kind:
                fstring_starts.append(token.start[0])
            elif getattr(tokenize, "FSTRING_END", None) == kind and fstring_starts:
                inside.update(range(fstring_starts.pop(), token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        return set(range(1, text.count("\n") + 2))
    return inside


def add_noqa(reports: Sequence[FileReport]) -> tuple[int, list[str]]:
    """Add `# noqa: CODE` for each finding (joining an existing `# noqa: ...`); the number
    added, and one message per finding that could not be suppressed."""
    added = 0
    problems: list[str] = []
    for report in reports:
        by_line: dict[int, set[str]] = defaultdict(set)
        for diagnostic in report.diagnostics:
            if diagnostic.code not in _UNSUPPRESSIBLE:
                by_line[diagnostic.start.line].add(diagnostic.code)
        if not by_line:
            continue
        path = report.path
        if is_markdown(path) or is_notebook(path):
            problems.append(
                f"{path}: --add-noqa edits Python files only; findings left as they are"
            )
            continue
        try:
            source = read_source(path)
        except SourceError as error:
            problems.append(f"{path}: {error}")
            continue
        lines = split_lines(source.text)
        unsafe = _lines_inside_strings(source.text)
        count = 0
        for number, codes in sorted(by_line.items()):
            line = lines[number - 1]
            body = line.rstrip("\r\n")
            if number in unsafe or body.rstrip().endswith("\\"):
                problems.append(
                    f"{path}:{number}: cannot add `# noqa` (the line ends inside a string or "
                    "continues with a backslash)"
                )
                continue
            for code in sorted(codes):
                if is_suppressed(code, suppressed_codes(body)):
                    continue
                start, end, replacement = suppression_edit(body, code)
                body = body[:start] + replacement + body[end:]
                count += 1
            lines[number - 1] = body + line[len(line.rstrip("\r\n")) :]
        if count:
            try:
                write_atomic(path, source.encode("".join(lines)))
            except (OSError, UnicodeEncodeError) as error:
                problems.append(f"{path}: cannot write: {error}")
                continue
            added += count
    return added, problems
