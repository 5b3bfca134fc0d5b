"""Inserting statements before others, or at the end of a block, by original node identity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from prefect_lint.tree import Replacement, leading_lines

_STATEMENTS = (cst.BaseStatement, cst.BaseSmallStatement)


class InsertStatements(cst.CSTTransformer):
    """Insert statements before given statements and append them to given blocks.

    `before` maps an original statement (a line in an indented block, or a small statement in
    a one-line suite) to what goes in front of it; the inserted statement takes over the
    comments above it. `after_body` maps an original IndentedBlock to statements appended.
    `after` maps an original statement of an indented block to what follows it.
    `replace` swaps nodes (e.g. binding a bare expression to a name), removes them or turns a
    statement into several. Originals are matched by identity, so the transformer must run on
    the tree they came from, in one pass (LibCST rebuilds every node it visits).
    """

    def __init__(
        self,
        before: Mapping[int, Sequence[cst.BaseSmallStatement]] | None = None,
        after_body: Mapping[int, Sequence[cst.BaseSmallStatement]] | None = None,
        replace: Mapping[int, Replacement] | None = None,
        after: Mapping[int, Sequence[cst.BaseSmallStatement]] | None = None,
    ) -> None:
        self.before = before or {}
        self.after = after or {}
        self.after_body = after_body or {}
        self.replace = replace or {}
        # What each original statement became, for the block that holds it (by id).
        self._became: dict[int, Replacement] = {}

    def with_replacements(
        self, replacements: Mapping[cst.CSTNode, Replacement]
    ) -> InsertStatements:
        """This transformer also making `replacements` (a `CstFix`'s), in the same pass: a
        separate pass first would rebuild the nodes this one finds by identity."""
        replace = {id(node): new for node, new in replacements.items()}
        replace.update(self.replace)
        return InsertStatements(self.before, self.after_body, replace, self.after)

    def target_ids(self) -> set[int]:
        """The ids of the original nodes this transformer changes (so a fix is rendered by
        transforming only the module-level statements that hold them)."""
        return {*self.before, *self.after, *self.after_body, *self.replace}

    # A swapped-in node may be of another kind (an expression statement becomes an
    # assignment), which LibCST's signature (the same node type out as in) cannot say.
    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> Replacement:
        key = id(original_node)
        result = (
            self.replace[key]
            if key in self.replace
            else super().on_leave(original_node, updated_node)
        )
        if isinstance(original_node, _STATEMENTS):
            self._became[key] = result
        return result

    def _results(self, original: cst.CSTNode) -> list[cst.CSTNode]:
        """The nodes `original` (a statement of the block being left) became: none if it
        was removed, several if it was replaced by a `FlattenSentinel`."""
        result = self._became.pop(id(original))
        if isinstance(result, cst.RemovalSentinel):
            return []
        if isinstance(result, cst.FlattenSentinel):
            return list(result.nodes)
        return [result]

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body: list[cst.CSTNode] = []
        for original in original_node.body:
            updated = self._results(original)
            inserted = self.before.get(id(original))
            if inserted:
                first = next((n for n in updated if isinstance(n, cst.BaseStatement)), None)
                body.append(
                    cst.SimpleStatementLine(
                        body=list(inserted),
                        leading_lines=leading_lines(first if first is not None else original),
                    )
                )
                updated = [n.with_changes(leading_lines=()) if n is first else n for n in updated]
            body.extend(updated)
            following = self.after.get(id(original))
            if following:
                body.append(cst.SimpleStatementLine(body=list(following)))
        appended = self.after_body.get(id(original_node))
        if appended:
            body.append(cst.SimpleStatementLine(body=list(appended)))
        return updated_node.with_changes(body=body)

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        body: list[cst.CSTNode] = []
        for original in original_node.body:
            body.extend(self.before.get(id(original), ()))
            body.extend(self._results(original))
        return updated_node.with_changes(body=body)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        # A small statement that is not first on its line (`x = 1; return x`).
        body: list[cst.CSTNode] = []
        for index, original in enumerate(original_node.body):
            if index > 0:
                body.extend(self.before.get(id(original), ()))
            body.extend(self._results(original))
        return updated_node.with_changes(body=body)
