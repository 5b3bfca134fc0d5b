"""Python's own parser, as the engine and the model use it: quiet, and None instead of raising."""

from __future__ import annotations

import ast
import warnings


def python_tree(text: str) -> ast.Module | None:
    """`text` parsed by Python (its SyntaxWarnings silenced), or None when Python rejects it
    or gives up on it (too deeply nested)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
