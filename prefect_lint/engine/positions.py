"""Positions for reported nodes only.

LibCST's PositionProvider regenerates the whole module with position tracking: it splits
every token on newlines and builds two position objects per node, about twice the cost of
parsing. Here plain code generation (cheap) measures the module-level statements that
come before a reported one; inside the statements that hold reported nodes, a codegen
state records character offsets only (one addition per token), and offsets become lines
and columns only for the nodes that are asked for.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Iterable

import libcst as cst
from libcst._nodes.internal import CodegenState

from prefect_lint.diagnostics import Position

_NEWLINE = re.compile(r"\r\n?|\n")


class _OffsetCodegenState(CodegenState):
    """Code generation that remembers where each node starts and ends, as offsets.

    The spans follow PositionProvider's rules: a node that records a syntactic position
    gets it (hoisted from `start_node`/`end_node` when given), any other node the span of
    everything it generated. Spans are keyed by `id(node)`: a LibCST node's `__hash__` is a
    Python call, and this runs for every node of a reported statement.
    """

    def __init__(self, module: cst.Module, base: int) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.offset = base
        self.spans: dict[int, tuple[int, int]] = {}
        self._starts: list[int] = []

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        # A span recorded as a syntactic position (inside) stands.
        self.spans.setdefault(id(node), (self._starts.pop(), self.offset))

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _SyntacticPosition:
        # A plain object, not a @contextmanager generator: one is made per such node.
        return _SyntacticPosition(self, node, start_node, end_node)


class _SyntacticPosition:
    """Records `node`'s span, from where its `with` block starts to where it ends."""

    __slots__ = ("_end_node", "_node", "_start", "_start_node", "_state")

    def __init__(
        self,
        state: _OffsetCodegenState,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self._state, self._node = state, node
        self._start_node, self._end_node = start_node, end_node
        self._start = 0

    def __enter__(self) -> None:
        self._start = self._state.offset

    def __exit__(self, *exc_info: object) -> None:
        state = self._state
        start, end = self._start, state.offset
        if self._start_node is not None:
            start = state.spans[id(self._start_node)][0]
        if self._end_node is not None:
            end = state.spans[id(self._end_node)][1]
        state.spans[id(self._node)] = (start, end)


class NodeSpans:
    """Where the nodes of the measured statements are, as offsets into the source."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._spans: dict[int, tuple[int, int]] = {}  # by id(node), as the state keeps them
        self._line_starts: list[int] | None = None

    def add(self, spans: dict[int, tuple[int, int]]) -> None:
        self._spans.update(spans)

    def __contains__(self, node: cst.CSTNode) -> bool:
        return id(node) in self._spans

    def position(self, node: cst.CSTNode) -> tuple[Position, Position] | None:
        span = self._spans.get(id(node))
        if span is None:
            return None
        return self._at(span[0]), self._at(span[1])

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            # Built once, on the first position asked for: linear in the source.
            self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self._source))]
        return self._line_starts

    def _at(self, offset: int) -> Position:
        starts = self._starts()
        line = bisect_right(starts, offset)
        return Position(line, offset - starts[line - 1])

    def line_offset(self, line: int) -> int | None:
        """Where 1-based `line` starts in the source (None: no such line)."""
        starts = self._starts()
        return starts[line - 1] if 1 <= line <= len(starts) else None


def statement_ranges(
    module: cst.Module,
    source: str,
    statements: Iterable[cst.CSTNode],
    tree: ast.Module | None = None,
) -> NodeSpans:
    """Spans of every node inside the given module-level statements.

    With `tree` (Python's parse of the same source, which flake8 hands its plugins), a
    statement's offset is read from the line its first token is on: no code generation for
    the statements before it. Each such offset is checked against the statement's own code,
    and any doubt falls back to measuring the statements before it."""
    wanted = {id(s) for s in statements}
    found = NodeSpans(source)
    lines = _first_lines(module, tree) if tree is not None else None
    offset = sum(len(module.code_for_node(line)) for line in module.header)
    measured = 0  # the statements before this index have been counted into `offset`
    for index, statement in enumerate(module.body):
        if not wanted:
            break
        if id(statement) not in wanted:
            continue
        wanted.discard(id(statement))
        state = _read_at_first_line(module, source, statement, found, lines, index)
        if state is None:
            for earlier in module.body[measured:index]:
                offset += len(module.code_for_node(earlier))
            state = _OffsetCodegenState(module, offset)
            statement._codegen(state)
        found.add(state.spans)
        offset, measured = state.offset, index + 1
    return found


def _read_at_first_line(
    module: cst.Module,
    source: str,
    statement: cst.CSTNode,
    spans: NodeSpans,
    lines: list[int] | None,
    index: int,
) -> _OffsetCodegenState | None:
    """The statement's spans, placed at the line `lines` gives it, if its code stands there."""
    start = spans.line_offset(lines[index]) if lines is not None else None
    if start is None:
        return None
    state = _OffsetCodegenState(module, start)
    statement._codegen(state)
    return state if source.startswith("".join(state.tokens), start) else None


def _first_lines(module: cst.Module, tree: ast.Module) -> list[int] | None:
    """Per module-level LibCST statement, the line its code starts on (its leading blank and
    comment lines included), from `tree`; None when the two parses do not line up."""
    lines: list[int] = []
    position = 0
    body = tree.body
    for statement in module.body:
        if position >= len(body):
            return None
        first = body[position]
        decorators = getattr(first, "decorator_list", None)
        line = min(d.lineno for d in decorators) if decorators else first.lineno
        lines.append(line - len(statement.leading_lines))
        # `a = 1; b = 2` is one LibCST line and two `ast` statements.
        position += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    return lines if position == len(body) else None


def node_position(spans: NodeSpans, node: cst.CSTNode) -> tuple[Position, Position]:
    return spans.position(node) or (Position(1, 0), Position(1, 0))
