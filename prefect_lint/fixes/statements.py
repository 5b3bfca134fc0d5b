"""Inserting statements before others, or at the end of a block, by original node identity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from prefect_lint.tree import leading_lines


class InsertStatements(cst.CSTTransformer):
    """Insert statements before given statements and append them to given blocks.

    `before` maps an original statement (a line in an indented block, or a small statement in
    a one-line suite) to what goes in front of it; the inserted statement takes over the
    comments above it. `after_body` maps an original IndentedBlock to statements appended.
    `after` maps an original statement of an indented block to what follows it.
    `replace` swaps nodes (e.g. binding a bare expression to a name).
    Originals are matched by identity, so the transformer must run on the tree they came from.
    """

    def __init__(
        self,
        before: Mapping[int, Sequence[cst.BaseSmallStatement]] | None = None,
        after_body: Mapping[int, Sequence[cst.BaseSmallStatement]] | None = None,
        replace: Mapping[int, cst.CSTNode] | None = None,
        after: Mapping[int, Sequence[cst.BaseSmallStatement]] | None = None,
    ) -> None:
        self.before = before or {}
        self.after = after or {}
        self.after_body = after_body or {}
        self.replace = replace or {}

    def target_ids(self) -> set[int]:
        """The ids of the original nodes this transformer changes (so a fix is rendered by
        transforming only the module-level statements that hold them)."""
        return {*self.before, *self.after, *self.after_body, *self.replace}

    # A swapped-in node may be of another kind (an expression statement becomes an
    # assignment), which LibCST's signature (the same node type out as in) cannot say.
    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        if id(original_node) in self.replace:
            return self.replace[id(original_node)]
        return super().on_leave(original_node, updated_node)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body: list[cst.BaseStatement] = []
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            inserted = self.before.get(id(original))
            if inserted:
                body.append(
                    cst.SimpleStatementLine(
                        body=list(inserted), leading_lines=leading_lines(updated)
                    )
                )
                updated = updated.with_changes(leading_lines=())
            body.append(updated)
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
        body: list[cst.BaseSmallStatement] = []
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            body.extend(self.before.get(id(original), ()))
            body.append(updated)
        return updated_node.with_changes(body=body)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        # A small statement that is not first on its line (`x = 1; return x`).
        body: list[cst.BaseSmallStatement] = []
        for index, (original, updated) in enumerate(
            zip(original_node.body, updated_node.body, strict=True)
        ):
            if index > 0:
                body.extend(self.before.get(id(original), ()))
            body.append(updated)
        return updated_node.with_changes(body=body)
