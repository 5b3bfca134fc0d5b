"""Jupyter notebooks: the code cells, joined into one module, checked and fixed in place.

As in ruff, the code cells of an `.ipynb` file are checked as one module (a later cell sees
the names an earlier one defined) and positions are reported as a cell (1-based, counting
every cell of the notebook) and a line and column inside it.

IPython syntax is not Python. A cell that does not parse is checked again with its magics
and shell escapes (`%time f()`, `!pip install x`, `files = !ls`, `obj?`) replaced by
`pass`; a cell magic other than `%%time`, `%%timeit` and `%%capture` (whose bodies are
Python) makes the whole cell something else (`%%bash`, `%%sql`), and a cell that still does
not parse is left out. So the module always parses, and what was left out is never
reported: its names are unknown, and unknown names are never reported.

`--fix` works on the joined module, then splits it back into cells along marker comments
and puts the magics back; only the `source` of the cells that changed is rewritten in the
JSON text, in the notebook's own layout, and every other byte (outputs, metadata, other
cells) is kept. If a fix moved a marker or a magic, or a cell no longer parses on its own,
no fix is applied to the notebook.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prefect_lint.diagnostics import (
    Diagnostic,
    Edit,
    Fix,
    Position,
    line_starts,
    offset_to_position,
    position_to_offset,
)
from prefect_lint.engine.report import Mode, Outcome
from prefect_lint.engine.source import python_parses

if TYPE_CHECKING:
    from prefect_lint.engine.analysis import FileSetup

NOTEBOOK_SUFFIXES = (".ipynb",)
SYNTAX_ERROR = "PFL000"
# Cell magics whose body is Python: the magic line is masked, the body checked.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture"})
_MAGIC = re.compile(
    r"""^(?P<indent>[ \t]*)(?:
        [%!?]                                   # %magic, !shell, ?help
      | [\w.]+[ \t]*\?{1,2}[ \t]*$              # obj? / obj??
      | [\w.,()\[\] \t*]+=[ \t]*[%!]            # x = !ls / x = %time f()
    )""",
    re.X,
)
_CELL_MARKER = "# prefect-lint: cell {index}"
_CELL_MARKER_LINE = re.compile(r"^# prefect-lint: cell (\d+)$")
_MAGIC_MARKER = "pass  # prefect-lint: magic {index}"
_MAGIC_MARKER_LINE = re.compile(r"^(?P<indent>[ \t]*)pass  # prefect-lint: magic (?P<index>\d+)$")


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIXES)


class NotebookError(Exception):
    """The file is not a notebook we can read (its JSON or layout is broken)."""


def _source_text(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    raise NotebookError("a cell's `source` is neither a string nor a list of strings")


@dataclass
class Cell:
    """One code cell as it takes part in the module."""

    index: int  # 0-based among all cells of the notebook
    source: str  # as in the notebook
    lines: list[str]  # the module's lines for this cell (magics masked), without newlines
    magics: dict[int, str] = field(default_factory=dict)  # marker index -> original line


def _masked(source: str, magic_base: int) -> tuple[list[str], dict[int, str]] | None:
    """The cell's lines with magics replaced by markers, or None if it is not Python."""
    lines = source.splitlines()
    if python_parses(source):
        return lines, {}
    magics: dict[int, str] = {}
    out: list[str] = []
    for number, line in enumerate(lines):
        if number == 0 and line.startswith("%%"):
            name = line[2:].split(maxsplit=1)[0] if line[2:].strip() else ""
            if name not in _PYTHON_CELL_MAGICS:
                return None
        if _MAGIC.match(line):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            key = magic_base + len(magics)
            magics[key] = line
            out.append(indent + _MAGIC_MARKER.format(index=key))
        else:
            out.append(line)
    return (out, magics) if python_parses("\n".join(out) + "\n") else None


@dataclass
class Notebook:
    text: str  # the JSON text
    data: dict[str, Any]
    cells: list[Cell]
    # Module line (1-based) -> (cell index, line in cell, 1-based); marker lines map to None.
    rows: list[tuple[int, int] | None]

    @property
    def module(self) -> str:
        parts: list[str] = []
        for cell in self.cells:
            parts.append(_CELL_MARKER.format(index=cell.index))
            parts.extend(cell.lines)
        return "".join(line + "\n" for line in parts)

    def to_cell(self, position: Position) -> tuple[int, Position] | None:
        index = position.line - 1
        row = self.rows[index] if 0 <= index < len(self.rows) else None
        if row is None:
            return None
        cell, line = row
        return cell + 1, Position(line, position.column)

    def cell_sources(self) -> dict[int, str]:
        """1-based cell number -> source, for excerpts."""
        return {cell.index + 1: cell.source for cell in self.cells}


def read_notebook(text: str) -> Notebook | None:
    """The notebook's Python cells, or None for a notebook in another language."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise NotebookError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a Jupyter notebook (no `cells` list)")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    language = (metadata.get("language_info") or {}).get("name") or (
        metadata.get("kernelspec") or {}
    ).get("language")
    if isinstance(language, str) and language.lower() not in ("python", "python3"):
        return None
    sources = {
        index: _source_text(raw.get("source", ""))
        for index, raw in enumerate(data["cells"])
        if isinstance(raw, dict) and raw.get("cell_type") == "code"
    }
    return _build(text, data, sources)


def _build(text: str, data: dict[str, Any], sources: dict[int, str]) -> Notebook:
    """The module of the code cells `sources` (cell index -> source)."""
    cells: list[Cell] = []
    rows: list[tuple[int, int] | None] = []
    magic_count = 0
    for index, source in sources.items():
        masked = _masked(source, magic_count)
        if masked is None:
            continue
        lines, magics = masked
        magic_count += len(magics)
        cells.append(Cell(index, source, lines, magics))
        rows.append(None)  # the marker line
        rows.extend((index, number) for number in range(1, len(lines) + 1))
    return Notebook(text, data, cells, rows)


def check_cells(sources: list[str], setup: FileSetup) -> list[Diagnostic]:
    """Check the code cells of a notebook an editor holds (no JSON); `cell` is 1-based among
    `sources`."""
    notebook = _build("", {}, dict(enumerate(sources)))
    if not notebook.cells:
        return []
    return _check(notebook, setup, False)


def _cell_fix(fix: Fix, notebook: Notebook, cell: int, starts: list[int]) -> Fix | None:
    """The fix with its edits as offsets into the cell's own source (what JSON shows), or
    None when an edit leaves the cell or touches a masked magic line."""
    by_index = {c.index + 1: c for c in notebook.cells}
    own = by_index[cell]
    own_starts = line_starts(own.source)
    edits = []
    for edit in fix.edits:
        begin = notebook.to_cell(offset_to_position(starts, edit.start))
        end = notebook.to_cell(offset_to_position(starts, edit.end))
        if begin is None or end is None or begin[0] != cell or end[0] != cell:
            return None
        first, last = begin[1], end[1]
        for line in range(first.line, last.line + 1):
            text = own.lines[line - 1]
            # A masked line differs from the cell's: an edit may only insert before it.
            covers = (first.line, first.column) < (line, len(text)) and (
                last.line,
                last.column,
            ) > (line, 0)
            if _MAGIC_MARKER_LINE.match(text) and covers:
                return None
        if end[1].line > len(own_starts):
            return None
        edits.append(
            Edit(
                position_to_offset(own_starts, begin[1]),
                position_to_offset(own_starts, end[1]),
                edit.content,
            )
        )
    return Fix(fix.title, fix.applicability, tuple(edits), fix.unused_imports)


def _map(
    diagnostic: Diagnostic, notebook: Notebook, starts: list[int] | None = None
) -> Diagnostic | None:
    start = notebook.to_cell(diagnostic.start)
    if start is None:
        return None
    end = notebook.to_cell(diagnostic.end)
    cell, start_position = start
    end_position = end[1] if end is not None and end[0] == cell else start_position
    return Diagnostic(
        code=diagnostic.code,
        message=diagnostic.message,
        start=start_position,
        end=end_position,
        fix=(
            _cell_fix(diagnostic.fix, notebook, cell, starts)
            if diagnostic.fix is not None and starts is not None
            else None
        ),
        fix_title=diagnostic.fix_title,
        fix_applicability=diagnostic.fix_applicability,
        cell=cell,
    )


def _check(notebook: Notebook, setup: FileSetup, render_fixes: bool) -> list[Diagnostic]:
    module = notebook.module
    found = setup.check(module, render_fixes=render_fixes)
    starts = line_starts(module) if render_fixes else None
    mapped = [m for d in found if d.code != SYNTAX_ERROR and (m := _map(d, notebook, starts))]
    mapped.sort(key=lambda d: (d.cell or 0, d.start, d.code))
    return mapped


def check_notebook(text: str, setup: FileSetup, mode: Mode) -> Outcome:
    """Check (with `mode.fix`: fix) a notebook's code cells; raises NotebookError for bad
    JSON."""
    notebook = read_notebook(text)
    if notebook is None or not notebook.cells:
        return Outcome(text, [], cell_sources={})
    outcome = Outcome(
        text,
        _check(notebook, setup, mode.render_fixes),
        cell_sources=notebook.cell_sources(),
    )
    if not mode.fix or not any(d.fixable for d in outcome.diagnostics):
        return outcome
    fixed = setup.fix(notebook.module, unsafe=mode.unsafe_fixes)
    if fixed.text == notebook.module:
        return outcome
    new_sources = _split(fixed.text, notebook)
    if new_sources is None:
        outcome.dropped.append(
            f"{setup.path}: fixes not applied: they would move code across cells or magics"
        )
        return outcome
    new_text = _rewrite(text, new_sources)
    again = read_notebook(new_text)
    if again is None:
        return outcome
    outcome.text = new_text
    outcome.fixed = fixed.fixed
    outcome.diagnostics = _check(again, setup, mode.render_fixes)
    outcome.cell_sources = again.cell_sources()
    return outcome


def _split(module: str, notebook: Notebook) -> dict[int, str] | None:
    """The new source of each cell from a fixed module, or None if the fix is not safe."""
    by_index = {cell.index: cell for cell in notebook.cells}
    magics = {k: v for cell in notebook.cells for k, v in cell.magics.items()}
    chunks: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in module.splitlines():
        marker = _CELL_MARKER_LINE.match(line)
        if marker is not None:
            current = chunks.setdefault(int(marker.group(1)), [])
            continue
        if current is None:
            # Code a fix put above the first marker (an import): it belongs to the first cell.
            current = chunks.setdefault(notebook.cells[0].index, [])
        current.append(line)
    if sorted(chunks) != sorted(by_index):
        return None
    sources: dict[int, str] = {}
    for cell_index, lines in chunks.items():
        cell = by_index[cell_index]
        if not python_parses("\n".join(lines) + "\n"):
            return None  # a fix wrapped code across a cell boundary
        restored = []
        seen = set()
        for line in lines:
            magic = _MAGIC_MARKER_LINE.match(line)
            if magic is not None:
                key = int(magic.group("index"))
                if key not in cell.magics:
                    return None
                seen.add(key)
                restored.append(magics[key])
            else:
                restored.append(line)
        if seen != set(cell.magics):
            return None
        trailing = "\n" if cell.source.endswith("\n") else ""
        text = "\n".join(restored) + trailing
        if text != cell.source:
            sources[cell_index] = text
    return sources


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match is not None else position  # `*`: it always matches


def _members(text: str, position: int) -> tuple[dict[str, tuple[int, int]], int]:
    """The object at `position`: key -> (value start, value end), and the object's end."""
    position = _skip(text, position)
    if text[position] != "{":
        raise NotebookError("unexpected JSON layout")
    found: dict[str, tuple[int, int]] = {}
    position = _skip(text, position + 1)
    while text[position] != "}":
        key, position = _DECODER.raw_decode(text, position)
        position = _skip(text, position)
        if text[position] != ":":
            raise NotebookError("unexpected JSON layout")
        start = _skip(text, position + 1)
        _, end = _DECODER.raw_decode(text, start)
        found[key] = (start, end)
        position = _skip(text, end)
        if text[position] == ",":
            position = _skip(text, position + 1)
    return found, position + 1


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """Where each cell's `source` value is in the JSON text: cell index -> (start, end)."""
    top, _ = _members(text, 0)
    position = _skip(text, top["cells"][0] + 1)
    spans: dict[int, tuple[int, int]] = {}
    cell_index = 0
    while text[position] != "]":
        cell, position = _members(text, position)
        if "source" in cell:
            spans[cell_index] = cell["source"]
        cell_index += 1
        position = _skip(text, position)
        if text[position] == ",":
            position = _skip(text, position + 1)
    return spans


def _format_source(old: str, source: str) -> str:
    """`source` as JSON in the layout of the value it replaces (nbformat: a list of lines)."""
    ascii_only = "\\u" in old
    if old.lstrip().startswith('"'):
        return json.dumps(source, ensure_ascii=ascii_only)
    lines = source.splitlines(keepends=True)
    if not lines:
        return "[]"
    items = [json.dumps(line, ensure_ascii=ascii_only) for line in lines]
    layout = re.match(r"\[(?P<first>[ \t]*\n?[ \t]*)", old)
    closing = re.search(r"(?P<last>\n?[ \t]*)\]$", old)
    first = layout.group("first") if layout else ""
    last = closing.group("last") if closing else ""
    if "\n" not in first:
        return "[" + ", ".join(items) + "]"
    separator = "," + first
    return "[" + first + separator.join(items) + last + "]"


def _rewrite(text: str, sources: dict[int, str]) -> str:
    spans = _source_spans(text)
    pieces: list[str] = []
    position = 0
    for cell_index in sorted(sources):
        start, end = spans[cell_index]
        pieces.append(text[position:start])
        pieces.append(_format_source(text[start:end], sources[cell_index]))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
