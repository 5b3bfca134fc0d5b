"""Positions: the engine counts characters, LSP counts code units of the negotiated encoding."""

from __future__ import annotations

from lsprotocol import types

from prefect_lint.diagnostics import Position, line_starts, offset_to_position


def units(text: str, encoding: str) -> int:
    """The length of `text` in the negotiated encoding's code units."""
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    # UTF-16 (LSP's default): characters outside the BMP take two units.
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class LineIndex:
    """Converts between the engine's positions (characters) and LSP's (code units).

    Lines end at `\\n`, `\\r\\n` or a lone `\\r`, for the engine and for LSP alike.
    """

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = line_starts(text)

    def line_end(self, index: int) -> int:
        """The offset where the content of 0-based line `index` ends (before its newline)."""
        if index + 1 >= len(self.starts):
            return len(self.text)
        end = self.starts[index + 1]
        while end > self.starts[index] and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    def line(self, index: int) -> str:
        return self.text[self.starts[index] : self.line_end(index)]

    def offset_to_lsp(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        position = offset_to_position(self.starts, offset)
        start = self.starts[position.line - 1]
        prefix = self.text[start:offset]
        return types.Position(line=position.line - 1, character=units(prefix, self.encoding))

    def to_lsp(self, position: Position) -> types.Position:
        if position.line < 1:
            return types.Position(line=0, character=0)
        if position.line > len(self.starts):
            return self.offset_to_lsp(len(self.text))
        index = position.line - 1
        offset = min(self.starts[index] + max(position.column, 0), self.line_end(index))
        return self.offset_to_lsp(offset)

    def from_lsp(self, position: types.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[position.line], self.line_end(position.line)
        if self.encoding == types.PositionEncodingKind.Utf32:
            return min(start + position.character, end)
        count = 0
        offset = start
        while offset < end and count < position.character:
            count += units(self.text[offset], self.encoding)
            offset += 1
        return offset

    def range_of(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.offset_to_lsp(start), end=self.offset_to_lsp(end))
