"""Names a fix introduces: fresh in the whole function, so no variable is overwritten."""

from __future__ import annotations

import libcst as cst

from prefect_lint.model.scopes import names_in


def taken_names(function: cst.FunctionDef, extra: frozenset[str] = frozenset()) -> set[str]:
    """Every name the function mentions (its parameters, locals, the globals it reads, nested
    scopes included): binding any of them in the function could change what it refers to."""
    return names_in(function) | extra


def fresh_name(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`... whichever is not taken; the result is then taken."""
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    taken.add(name)
    return name
