"""Python code blocks in Markdown and MDX documents, each checked as a module of its own.

A block is a fenced code block (backticks or tildes, at any indentation, so fences inside
list items count) whose info string names Python: `python`, `py` or `python3`. Other
languages and fences that are never closed are left alone. The fence's indentation is
removed from the block's lines before checking (CommonMark's rule), and diagnostics are
mapped back to the document's lines and columns. Fixes rewrite only lines inside a fence,
re-indented with the fence's indentation; unchanged lines keep their exact bytes.

Line highlights in the opening fence (`{9}`, `{3-5,9}` as in Docusaurus, MDX and Mintlify,
`hl_lines="3 5"` as in MkDocs) count lines of the block: when a fix adds or removes lines,
they are renumbered to follow the lines they marked.

Like ruff with code blocks in documentation, a block that does not parse is skipped in
silence: docs hold fragments, doctests and pseudo-code that were never meant to compile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prefect_lint.diagnostics import Diagnostic, Edit, Fix, Position, line_starts
from prefect_lint.engine.report import Mode, Outcome
from prefect_lint.fixes.edits import trimmed_edit

if TYPE_CHECKING:
    from prefect_lint.engine.analysis import FileSetup

MARKDOWN_SUFFIXES = (".md", ".mdx")
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
SYNTAX_ERROR = "PFL000"

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_DROPPED = re.compile(r"^(?P<path>.*):(?P<line>\d+):(?P<column>\d+): ")
_LINE_SPEC = r"\d+(?:\s*-\s*\d+)?"
# `{1,3-5}` (only numbers and ranges: `{.python}` or `{title=x}` are attributes) and
# `hl_lines="1 3-5"`.
_HIGHLIGHTS = re.compile(
    rf"(?P<open>\{{\s*)(?P<braces>{_LINE_SPEC}(?:\s*,\s*{_LINE_SPEC})*)\s*\}}"
    rf"|(?P<hl>hl_lines=)(?P<quote>[\"'])(?P<spaced>{_LINE_SPEC}(?:\s+{_LINE_SPEC})*)(?P=quote)"
)


def is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line ending (`\\r\\n`, `\\n` or a lone `\\r`)."""
    return _LINE.findall(text)


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _language(info: str) -> str:
    words = info.strip().split()
    if not words:
        return ""
    # `{.python}` / `{python}` (Pandoc, MyST) as well as plain `python title="x.py"`.
    return words[0].strip("{}").lstrip(".").lower()


@dataclass
class CodeBlock:
    """One Python block: its lines without the fence's indentation, and where they came from."""

    first_line: int  # 0-based index of the block's first line among the document's lines
    indent: str  # the opening fence's indentation
    newline: str  # the line ending used for lines a fix adds
    lines: list[str] = field(default_factory=list)  # without line endings
    removed: list[int] = field(default_factory=list)  # indentation characters removed per line
    fence: str = ""  # the opening fence line, without its line ending

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def to_document(self, position: Position) -> Position:
        index = position.line - 1
        extra = self.removed[index] if 0 <= index < len(self.removed) else 0
        return Position(self.first_line + position.line, position.column + extra)


def _dedent(line: str, indent: str) -> tuple[str, int]:
    removed = 0
    while removed < len(indent) and removed < len(line) and line[removed] in " \t":
        removed += 1
    return line[removed:], removed


def code_blocks(text: str) -> list[CodeBlock]:
    """The Python code blocks of a Markdown document, in order."""
    lines = split_lines(text)
    blocks: list[CodeBlock] = []
    index = 0
    while index < len(lines):
        opening = _OPENING.match(_body(lines[index]))
        index += 1
        if opening is None:
            continue
        fence, info = opening.group("fence"), opening.group("info")
        if fence[0] == "`" and "`" in info:
            continue  # inline code such as ```x```, not a fence
        indent = opening.group("indent")
        # A closing fence: the same character, at least as long, indented at most three
        # columns more than the opening one (so a fence inside a string literal does not end
        # the block early).
        closing = re.compile(
            rf"^[ \t]{{0,{len(indent) + 3}}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$"
        )
        start = index
        while index < len(lines) and not closing.match(_body(lines[index])):
            index += 1
        if index >= len(lines):
            break  # never closed: not checked (and nothing after it is a block either)
        if _language(info) in PYTHON_LANGUAGES:
            newline = lines[start - 1][len(_body(lines[start - 1])) :] or "\n"
            block = CodeBlock(
                first_line=start, indent=indent, newline=newline, fence=_body(lines[start - 1])
            )
            for line in lines[start:index]:
                content, removed = _dedent(_body(line), indent)
                block.lines.append(content)
                block.removed.append(removed)
            blocks.append(block)
        index += 1  # past the closing fence
    return blocks


def _line_map(opcodes: Sequence[tuple[str, int, int, int, int]]) -> dict[int, list[int]]:
    """For each 1-based old line, the new lines it became ([] when a fix removed it).

    Unchanged lines move with what was inserted or removed above them; a changed region
    maps line by line when it kept its length, else each of its lines to the whole region.
    """
    mapping: dict[int, list[int]] = {}
    for tag, i1, i2, j1, j2 in opcodes:
        for old in range(i1, i2):
            if tag == "equal" or i2 - i1 == j2 - j1:
                mapping[old + 1] = [j1 + old - i1 + 1]
            else:
                mapping[old + 1] = list(range(j1 + 1, j2 + 1))
    return mapping


def _renumber(spec: str, separator: str, mapping: dict[int, list[int]]) -> str:
    """`spec` (`1,3-5` or `1 3-5`) with each item's lines mapped, written as ranges again."""
    items: list[str] = []
    for item in re.split(r"\s*,\s*|\s+", spec.strip()):
        first, _, last = item.partition("-")
        low = int(first)
        high = int(last) if last else low
        lines = sorted({new for old in range(low, high + 1) for new in mapping.get(old, [old])})
        runs: list[list[int]] = []
        for line in lines:
            if runs and line == runs[-1][1] + 1:
                runs[-1][1] = line
            else:
                runs.append([line, line])
        items.extend(str(a) if a == b else f"{a}-{b}" for a, b in runs)
    return separator.join(items)


def _shifted_fence(fence: str, mapping: dict[int, list[int]]) -> str:
    """The opening fence with its line highlights renumbered by `mapping`."""

    def renumber(match: re.Match[str]) -> str:
        if match["braces"] is not None:
            numbers = _renumber(match["braces"], ",", mapping)
            if numbers in ("", match["braces"]):
                return match[0]
            return match["open"] + numbers + match[0][match.end("braces") - match.start() :]
        numbers = _renumber(match["spaced"], " ", mapping)
        if not numbers:  # every marked line is gone: leave the option as it was
            return match[0]
        return f"{match['hl']}{match['quote']}{numbers}{match['quote']}"

    # Only the info string, never the fence characters themselves.
    head = len(fence) - len(fence.lstrip(" \t"))
    head += len(fence[head:]) - len(fence[head:].lstrip(fence[head : head + 1]))
    return fence[:head] + _HIGHLIGHTS.sub(renumber, fence[head:])


def _document_edits(
    document: str, block: CodeBlock, starts: list[int], new_text: str
) -> list[Edit]:
    """Edits to the document that turn `block`'s lines into `new_text`, re-indented.

    Only lines that changed are rewritten: a line the fix did not touch keeps its bytes,
    even if it was indented less than the fence. Each edit is then trimmed to what differs.
    Line highlights in the opening fence are renumbered when lines were added or removed.
    """
    import difflib

    new_lines = [_body(line) for line in split_lines(new_text)]
    matcher = difflib.SequenceMatcher(None, block.lines, new_lines, autojunk=False)
    opcodes = matcher.get_opcodes()
    edits: list[Edit] = []
    if len(new_lines) != len(block.lines) and _HIGHLIGHTS.search(block.fence):
        fence = _shifted_fence(block.fence, _line_map(opcodes))
        if fence != block.fence:
            start = starts[block.first_line - 1]
            end = start + len(block.fence)
            edits.append(trimmed_edit(start, end, block.fence, fence))
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        content = "".join(
            (block.indent + line if line.strip() else "") + block.newline
            for line in new_lines[j1:j2]
        )
        start, end = starts[block.first_line + i1], starts[block.first_line + i2]
        edits.append(trimmed_edit(start, end, document[start:end], content))
    return edits


def _line_starts(text: str) -> list[int]:
    # One more start at the end of a last line without a line ending, for a block running
    # to the end of the document.
    return [*line_starts(text), len(text)]


def _map_diagnostic(
    diagnostic: Diagnostic, document: str, block: CodeBlock, starts: list[int], render_fixes: bool
) -> Diagnostic:
    fix = None
    if render_fixes and diagnostic.fix is not None:
        from prefect_lint.fixes.edits import apply_edits

        new_text = apply_edits(block.text, list(diagnostic.fix.edits))
        edits = tuple(_document_edits(document, block, starts, new_text))
        fix = Fix(diagnostic.fix.title, diagnostic.fix.applicability, edits) if edits else None
    return Diagnostic(
        code=diagnostic.code,
        message=diagnostic.message,
        start=block.to_document(diagnostic.start),
        end=block.to_document(diagnostic.end),
        fix=fix,
        fix_title=diagnostic.fix_title,
        fix_applicability=diagnostic.fix_applicability if fix or not render_fixes else None,
    )


def _map_dropped(message: str, block: CodeBlock) -> str:
    match = _DROPPED.match(message)
    if match is None:
        return message
    position = block.to_document(Position(int(match["line"]), int(match["column"]) - 1))
    return f"{match['path']}:{position.line}:{position.column + 1}: {message[match.end() :]}"


def _check_blocks(text: str, setup: FileSetup, render_fixes: bool) -> list[Diagnostic]:
    starts = _line_starts(text)
    diagnostics: list[Diagnostic] = []
    for block in code_blocks(text):
        found = setup.check(block.text, render_fixes=render_fixes)
        if any(d.code == SYNTAX_ERROR for d in found):
            continue
        diagnostics.extend(_map_diagnostic(d, text, block, starts, render_fixes) for d in found)
    diagnostics.sort(key=lambda d: (d.start, d.code))
    return diagnostics


def check_markdown(text: str, setup: FileSetup, mode: Mode) -> Outcome:
    """Check (with `mode.fix`: fix) every Python block of a document; positions in the
    document."""
    if not mode.fix:
        return Outcome(text, _check_blocks(text, setup, mode.render_fixes))
    from prefect_lint.fixes.edits import apply_edits

    starts = _line_starts(text)
    outcome = Outcome(text=text, diagnostics=[])
    edits: list[Edit] = []
    for block in code_blocks(text):
        fixed = setup.fix(block.text, unsafe=mode.unsafe_fixes)
        if any(d.code == SYNTAX_ERROR for d in fixed.diagnostics):
            continue
        outcome.fixed.update(fixed.fixed)
        outcome.dropped.extend(_map_dropped(line, block) for line in fixed.dropped)
        if fixed.text != block.text:
            edits.extend(_document_edits(text, block, starts, fixed.text))
        outcome.diagnostics.extend(
            _map_diagnostic(d, text, block, starts, render_fixes=True) for d in fixed.diagnostics
        )
    if edits:
        outcome.text = apply_edits(text, edits)
        # What remains, at its place in the fixed document.
        outcome.diagnostics = _check_blocks(outcome.text, setup, True)
    outcome.diagnostics.sort(key=lambda d: (d.start, d.code))
    return outcome
