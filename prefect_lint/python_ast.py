"""Python's own parser, as the engine and the model use it: quiet, and None instead of raising."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from typing import cast


def python_tree(text: str) -> ast.Module | None:
    """`text` parsed by Python (its SyntaxWarnings silenced), or None when Python rejects it
    or gives up on it (too deeply nested)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# -- walking a tree --------------------------------------------------------------------------

# Fields no pre-check walk needs: expression contexts and operators are leaves that say nothing
# about names, calls or bindings (`Name.ctx` is read from the `Name` itself).
_LEAF_FIELDS = frozenset({"ctx", "op", "ops"})
# List fields that may hold something else than nodes: identifiers (`global`, `nonlocal`, a
# class pattern's keyword names) or None (a dict display's `**` keys, keyword-only arguments
# without default). Every other list field holds nodes only (CPython's ASDL).
_MIXED_FIELDS = frozenset(
    {
        (ast.Global, "names"),
        (ast.Nonlocal, "names"),
        (ast.MatchClass, "kwd_attrs"),
        (ast.Dict, "keys"),
        (ast.arguments, "kw_defaults"),
    }
)

_ChildAdder = Callable[[ast.AST, list[ast.AST]], None]
_ADDERS: dict[type[ast.AST], _ChildAdder] = {}


def add_children(node: ast.AST, out: list[ast.AST]) -> None:
    """Append `node`'s child nodes to `out`, in field order, without contexts and operators:
    the step of every `ast` walk of the pre-check (one call per node of each file)."""
    kind = type(node)
    adder = _ADDERS.get(kind)
    if adder is None:
        adder = _ADDERS[kind] = _compile_adder(kind)
    adder(node, out)


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`node`'s child nodes (see `add_children`)."""
    children: list[ast.AST] = []
    add_children(node, children)
    return children


def _compile_adder(kind: type[ast.AST]) -> _ChildAdder:
    """A function reading `kind`'s node fields by name, generated once per node class as
    `dataclasses` and `namedtuple` generate theirs: measured a quarter faster than a loop over
    the field names with `getattr`, on the walk every pre-checked file gets several times."""
    lines = ["def add(node, out):", "    pass"]
    for name in kind._fields:
        if name in _LEAF_FIELDS or not name.isidentifier():
            continue
        lines.append(f"    value = getattr(node, {name!r}, None)")
        lines.append("    if type(value) is list:")
        if (kind, name) in _MIXED_FIELDS:
            lines.append("        out.extend([item for item in value if isinstance(item, AST)])")
        else:
            lines.append("        out.extend(value)")
        lines.append("    elif isinstance(value, AST):")
        lines.append("        out.append(value)")
    namespace: dict[str, object] = {"AST": ast.AST}
    exec("\n".join(lines), namespace)  # the text is built above from field names only
    return cast(_ChildAdder, namespace["add"])
