"""A rule's "Use instead" may show only what changes: the whole module it stands for.

The Example is a complete module. The Use instead block is either a complete module too, or,
when it has a line `# ... (the rest as in the Example)`, the top-level statements that differ
from the Example's (a function, a class, an assignment, the script's entry point: the
`if __name__ == "__main__":` block or a bare call), after the module's imports when those
change as well. The rest of the module is the
Example's, in the Example's order.
"""

from __future__ import annotations

import ast

_IMPORTS = "<imports>"
ELIDED = "# ... (the rest as in the Example)"


def _key(statement: ast.stmt) -> str | None:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return _IMPORTS
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement.name
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return targets[0].id
    if isinstance(statement, ast.If) and "__name__" in ast.unparse(statement.test):
        return "__main__"
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        return "__main__"  # the script's entry point without its guard
    return None


def _parts(source: str) -> list[tuple[str | None, int, int]]:
    """(key, first line, last line) of each top-level statement, 0-based; the leading
    imports form one part."""
    parts: list[tuple[str | None, int, int]] = []
    for statement in ast.parse(source).body:
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(d.lineno for d in decorators)]) - 1
        last = (statement.end_lineno or statement.lineno) - 1
        key = _key(statement)
        if key == _IMPORTS and parts and parts[-1][0] == _IMPORTS:
            parts[-1] = (key, parts[-1][1], last)
        else:
            parts.append((key, first, last))
    return parts


def whole_module(example: str, use_instead: str) -> str:
    """The complete module `use_instead` stands for (itself, when it is complete)."""
    if ELIDED not in use_instead.splitlines():
        return use_instead
    shown, parts = _parts(use_instead), _parts(example)
    shown_keys = {key for key, _, _ in shown}
    keys = {key for key, _, _ in parts}
    assert None not in shown_keys and len(shown_keys) == len(shown), "unnamed or repeated parts"
    assert shown_keys <= keys, f"Use instead shows what the Example lacks: {shown_keys - keys}"
    lines, shown_lines = example.splitlines(keepends=True), use_instead.splitlines(keepends=True)
    replacements = {key: "".join(shown_lines[first : last + 1]) for key, first, last in shown}
    out: list[str] = []
    position = 0
    for key, first, last in parts:
        out.extend(lines[position:first])
        if key in replacements:
            out.append(replacements[key])
        else:
            out.extend(lines[first : last + 1])
        position = last + 1
    out.extend(lines[position:])
    return "".join(out)
