"""Plain walks over LibCST trees: a node's children, a function's own code, its returns.

They read the nodes' dataclass fields directly (LibCST's `children` property visits the
node with a collector, about 20 times slower) and know nothing of Prefect, so the walker,
the model, the fixes and the rules all build on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import libcst as cst

# Fields that only hold syntax trivia or tokens; nothing a rule inspects by walking into.
_TRIVIA_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "equal",
        "colon",
        "dot",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "newline",
        "trailing_whitespace",
        "empty_lines",
        "first_line",
        "operator",
        "asynchronous",
        "relative",
        "between",
        "leading_whitespace",
        "first_colon",
        "second_colon",
        "trailing_comma",
    }
)

# What a node becomes in a rewrite: another node, nothing, or several statements.
Replacement = cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]
# Code that runs in its own scope, later: walks of "this function's code" stop there.
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Statement containers whose children may hold a `return`.
_BLOCKS = (
    cst.BaseSuite,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Else,
    cst.Finally,
    cst.MatchCase,
)
_child_fields: dict[type, tuple[str, ...]] = {}


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children` without whitespace and punctuation, and without its cost: LibCST's
    property visits the node with a collector, about 20 times slower.

    The order is the node's dataclass field order, which is NOT always source order: a def's
    decorators, return annotation and type parameters, and a class's bases, keywords and
    decorators come after its body; an `except` clause's type and name and a `case` guard
    after their body; `a if test else b` gives the test first; a keyword argument gives its
    value before its keyword; positional-only parameters (and the `/`) come last; a `type`
    alias gives its value before its type parameters. Code that needs source order must
    order those itself.
    """
    children: list[cst.CSTNode] = []
    for name in fields_of(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            children.append(value)
        elif isinstance(value, (list, tuple)):
            children.extend(v for v in value if isinstance(v, cst.CSTNode))
    return children


def fields_of(node_type: type) -> tuple[str, ...]:
    """The fields of `node_type` that may hold child nodes, in dataclass field order."""
    names = _child_fields.get(node_type)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _TRIVIA_FIELDS and not f.name.startswith("whitespace")
        )
        _child_fields[node_type] = names
    return names


def body_nodes(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Every node of `function`'s own body: nested functions, classes and lambdas excluded."""
    return own_nodes(function.body)


def own_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`root` and the nodes under it, depth first in `child_nodes` order (source order for
    statements, see `child_nodes` for the exceptions), not entering nested scopes."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(
            child for child in reversed(child_nodes(node)) if not isinstance(child, NESTED_SCOPES)
        )


def returns_of(function: cst.FunctionDef) -> Iterator[cst.Return]:
    """The `return` statements of `function` itself, in source order. Only statements are
    walked (a return cannot hide in an expression), which keeps this cheap for every task."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            yield node
        elif isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            stack.extend(reversed([s for s in node.body if isinstance(s, cst.Return)]))
        elif isinstance(node, cst.BaseCompoundStatement) and not isinstance(node, NESTED_SCOPES):
            stack.extend(
                reversed([c for c in child_nodes(node) if not isinstance(c, cst.BaseExpression)])
            )
        elif isinstance(node, _BLOCKS):
            stack.extend(reversed(child_nodes(node)))


def leading_lines(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    """The blank and comment lines above `statement`: every kind of statement has them, but
    LibCST's `BaseStatement` does not declare the field."""
    if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return statement.leading_lines
    raise TypeError(f"{type(statement).__name__} is not a statement")
