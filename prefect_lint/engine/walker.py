"""One traversal of a LibCST tree that feeds every rule.

LibCST's own visitor machinery rebuilds each node while it walks, which costs about as much as
parsing; reading the dataclass fields directly is an order of magnitude cheaper. Syntax-only
fields (whitespace, parentheses, commas, comments) are never entered.

Children are visited in dataclass field order, which is not always source order (a
`FunctionDef`'s decorators come after its body). Rules that need source order read the
node they are given. The plain tree walks (`child_nodes` and friends) live in
`prefect_lint.tree`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import libcst as cst

from prefect_lint.tree import fields_of

NodeCallback = Callable[[Any], Any]

__all__ = ["NodeCallback", "Walker"]

# Nodes without children worth entering; skipped outright unless a listener asks for them.
_LEAVES = frozenset(
    {
        cst.Name,
        cst.SimpleString,
        cst.Integer,
        cst.Float,
        cst.Imaginary,
        cst.FormattedStringText,
        cst.Ellipsis,
        cst.Pass,
        cst.Break,
        cst.Continue,
    }
)


class _Leave:
    __slots__ = ("node",)

    def __init__(self, node: cst.CSTNode) -> None:
        self.node = node


def _node_type(name: str) -> type:
    node_type = getattr(cst, name, None)
    if not (isinstance(node_type, type) and issubclass(node_type, cst.CSTNode)):
        raise TypeError(f"{name!r} is not a LibCST node type")
    return node_type


def _done(node: cst.CSTNode) -> None:
    """What `Walker.walk`'s recursive closure is rebound to once the walk is over."""


class Walker:
    """Dispatches `visit_<Node>` / `leave_<Node>` methods of many listeners in one pass.

    `ancestors` holds the chain of nodes from the root down to the parent of the node
    currently being visited; listeners read it to learn where they are.
    """

    def __init__(self, listeners: Iterable[object]) -> None:
        self.ancestors: list[cst.CSTNode] = []
        # The node whose visit or leave callbacks are running.
        self.current: cst.CSTNode | None = None
        self._visit: dict[type, list[NodeCallback]] = {}
        self._leave: dict[type, list[NodeCallback]] = {}
        for listener in listeners:
            self.add_listener(listener)

    def add_listener(self, listener: object) -> None:
        for attr in dir(type(listener)):
            if attr.startswith("visit_"):
                table, name = self._visit, attr[len("visit_") :]
            elif attr.startswith("leave_"):
                table, name = self._leave, attr[len("leave_") :]
            else:
                continue
            table.setdefault(_node_type(name), []).append(getattr(listener, attr))

    def walk(self, root: cst.CSTNode) -> None:
        """Recursive walk (the fast path); may raise RecursionError on absurdly deep trees."""
        visit, leave, ancestors = self._visit, self._leave, self.ancestors
        skip = _LEAVES - visit.keys() - leave.keys()
        node_base = cst.CSTNode

        def enter(node: cst.CSTNode) -> None:
            node_type = type(node)
            descend = True
            callbacks = visit.get(node_type)
            if callbacks:
                self.current = node
                for callback in callbacks:
                    if callback(node) is False:
                        descend = False
            ancestors.append(node)
            if descend:
                for name in fields_of(node_type):
                    value = getattr(node, name)
                    kind = value.__class__
                    if kind is tuple or kind is list:
                        for child in value:
                            if child.__class__ not in skip:
                                enter(child)
                    elif kind not in skip and isinstance(value, node_base):
                        enter(value)
            ancestors.pop()
            callbacks = leave.get(node_type)
            if callbacks:
                self.current = node
                for callback in callbacks:
                    callback(node)

        try:
            enter(root)
        finally:
            # `enter` refers to itself through its closure: a cycle that would keep this
            # walker, its listeners and the whole tree alive until a full collection.
            enter = _done

    def walk_iterative(self, root: cst.CSTNode) -> None:
        """The same walk with an explicit stack, for trees too deep to recurse over."""
        visit, leave, ancestors = self._visit, self._leave, self.ancestors
        stack: list[Any] = [root]
        node_base = cst.CSTNode
        while stack:
            item = stack.pop()
            if item.__class__ is _Leave:
                node = item.node
                ancestors.pop()
                self.current = node
                for callback in leave.get(type(node), ()):
                    callback(node)
                continue
            node = item
            node_type = type(node)
            descend = True
            self.current = node
            for callback in visit.get(node_type, ()):
                if callback(node) is False:
                    descend = False
            stack.append(_Leave(node))
            ancestors.append(node)
            if not descend:
                continue
            children: list[cst.CSTNode] = []
            for name in fields_of(node_type):
                value = getattr(node, name)
                if isinstance(value, node_base):
                    children.append(value)
                elif isinstance(value, (list, tuple)):
                    children.extend(v for v in value if isinstance(v, node_base))
            children.reverse()
            stack.extend(children)
