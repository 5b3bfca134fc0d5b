"""The code action's `# noqa` edit: only where Python's tokenizer will see the comment."""

from __future__ import annotations

import io
import tokenize

from prefect_lint.engine.noqa import is_suppressed, suppressed_codes, suppression_edit
from prefect_lint.frontends.lsp.positions import LineIndex


def noqa_edit(lines: LineIndex, line: int, code: str) -> tuple[int, int, str] | None:
    """The edit (start, end, text; document offsets) that suppresses `code` on 0-based `line`.

    None if no comment can go there: the result must tokenize, with a real comment on that line
    that suppresses the code (a line ending inside a string or after a backslash cannot).
    """
    if line >= len(lines.starts):
        return None
    start, end, content = suppression_edit(lines.line(line), code)
    begin = lines.starts[line]
    edit = (begin + start, begin + end, content)
    new_text = lines.text[: edit[0]] + edit[2] + lines.text[edit[1] :]
    new_line = LineIndex(new_text, lines.encoding).line(line)
    if not is_suppressed(code, suppressed_codes(new_line)):
        return None
    if not _comment_suppresses(new_text, line + 1, code):
        return None
    return edit


def _comment_suppresses(text: str, row: int, code: str) -> bool:
    """Python's tokenizer sees a comment on `row` (1-based) that suppresses `code`."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[0] > row:
                return False
            if token.type == tokenize.COMMENT and token.start[0] == row:
                return is_suppressed(code, suppressed_codes(token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return False
    return False
