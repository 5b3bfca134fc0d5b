"""Positions for reported nodes only.

LibCST's PositionProvider regenerates the whole module with position tracking (about twice
the cost of parsing). Here plain code generation (cheap) measures the module-level
statements that come before a reported one, and position tracking runs only inside the
statements that hold reported nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst
from libcst._position import CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from prefect_lint.diagnostics import Position

_NEWLINE = re.compile(r"\r\n?|\n")


class _RangeSink:
    """Stands in for the metadata provider that the codegen state records into."""

    def __init__(self) -> None:
        self._computed: dict[cst.CSTNode, CodeRange] = {}


def statement_ranges(
    module: cst.Module, source: str, statements: Iterable[cst.CSTNode]
) -> dict[cst.CSTNode, CodeRange]:
    """Ranges of every node inside the given module-level statements."""
    wanted = {id(s) for s in statements}
    ranges: dict[cst.CSTNode, CodeRange] = {}
    offset = sum(len(module.code_for_node(line)) for line in module.header)
    # Newlines are counted once over the text, from the previous reported statement on.
    counted_to, line = 0, 1
    for statement in module.body:
        if not wanted:
            break
        if id(statement) in wanted:
            wanted.discard(id(statement))
            line += len(_NEWLINE.findall(source, counted_to, offset))
            counted_to = offset
            sink = _RangeSink()
            state = PositionProvidingCodegenState(
                default_indent=module.default_indent,
                default_newline=module.default_newline,
                provider=sink,  # type: ignore[arg-type]  # duck-typed: see _RangeSink
                line=line,
                column=0,
            )
            statement._codegen(state)
            ranges.update(sink._computed)
            offset += len("".join(state.tokens))
        else:
            offset += len(module.code_for_node(statement))
    return ranges


def node_position(
    ranges: dict[cst.CSTNode, CodeRange], node: cst.CSTNode
) -> tuple[Position, Position]:
    code_range = ranges.get(node)
    if code_range is None:
        return Position(1, 0), Position(1, 0)
    return (
        Position(code_range.start.line, code_range.start.column),
        Position(code_range.end.line, code_range.end.column),
    )
