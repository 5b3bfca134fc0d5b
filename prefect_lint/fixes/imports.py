"""Adding `from module import name` where isort (and ruff's `I` rules) would put it.

Works on the module-level statements only, so it costs next to nothing on a large file.
For a file whose imports were sorted, the result is still sorted:
- a name already imported is not imported again;
- a name from a module that is already imported from (`from prefect import flow`) joins that
  statement, at its sorted place (ruff's default order: CONSTANTS, Classes, then the rest,
  case-insensitively), or at the end when the names were not sorted to begin with;
- otherwise a new statement goes into the block of imports from the same package, at its
  sorted place (`import x` lines first, then `from` lines, by module, case-insensitively);
  with no such block, into the block of its section (future, standard library, third party,
  first party: the packages in the project root or its `src/`, local: relative imports);
  with none, as a block of its own after the sections that come first, with the blank lines
  isort puts around a block.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence

import libcst as cst

from prefect_lint.model.root import find_project_root
from prefect_lint.records import ImportRequest
from prefect_lint.tree import leading_lines

# ruff's default line length: a merged `from` line longer than this is wrapped, as isort does.
LINE_LENGTH = 88
_STDLIB = frozenset(sys.stdlib_module_names)


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _imports_of(statement: cst.BaseStatement) -> list[cst.Import | cst.ImportFrom] | None:
    """The imports a module-level line holds, or None if it holds anything else."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    found = [s for s in statement.body if isinstance(s, (cst.Import, cst.ImportFrom))]
    return found if found and len(found) == len(statement.body) else None


def _module_of(node: cst.Import | cst.ImportFrom) -> str:
    if isinstance(node, cst.ImportFrom):
        return "." * len(node.relative) + _dotted(node.module)
    return _dotted(node.names[0].name)


def _statement_key(statement: cst.BaseStatement) -> tuple[int, str, str]:
    imports = _imports_of(statement)
    if not imports:
        return (2, "", "")
    node = imports[0]
    module = _module_of(node)
    return (int(isinstance(node, cst.ImportFrom)), module.lower(), module)


def _member_key(name: str) -> tuple[int, str, str]:
    if len(name) > 1 and name.isupper():
        kind = 0  # CONSTANT
    elif name[:1].isupper():
        kind = 1  # Class
    else:
        kind = 2
    return (kind, name.lower(), name)


def _alias_name(alias: cst.ImportAlias) -> str:
    return _dotted(alias.name)


def _alias_as(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None:
        return None
    return _dotted(alias.asname.name)


def first_party(path: str) -> frozenset[str]:
    """The top-level names isort and ruff count as first-party for `path`: the packages and
    modules in its project root and the root's `src/` (ruff's default `src`)."""
    return _first_party_in(find_project_root(os.path.abspath(path)))


@functools.lru_cache(maxsize=64)
def _first_party_in(root: str) -> frozenset[str]:
    names: set[str] = set()
    for directory in (root, os.path.join(root, "src")):
        try:
            entries = os.scandir(directory)
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    names.add(entry.name[:-3])
                elif entry.is_dir() and entry.name.isidentifier():
                    names.add(entry.name)
    return frozenset(names)


def _section(module: str, own: frozenset[str]) -> str:
    if module.startswith("."):
        return "local"
    top = module.split(".")[0]
    if top == "__future__":
        return "future"
    if top in own:
        return "first-party"
    return "stdlib" if top in _STDLIB else "third-party"


def _is_blank_line(line: cst.EmptyLine) -> bool:
    return line.comment is None


def _starts_block(statement: cst.BaseStatement) -> bool:
    return any(_is_blank_line(line) for line in leading_lines(statement))


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _blank(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def add_imports(
    module: cst.Module,
    body: Sequence[cst.BaseStatement],
    requests: Sequence[ImportRequest],
    own: frozenset[str] = frozenset(),
) -> list[cst.BaseStatement]:
    """`body` (the module's statements) with the `requests` imported; `own` are the project's
    first-party top-level names (see `first_party`)."""
    statements = list(body)
    for request in requests:
        statements = _add_import(module, statements, request, own)
    return statements


def _add_import(
    module: cst.Module,
    body: list[cst.BaseStatement],
    request: ImportRequest,
    own: frozenset[str],
) -> list[cst.BaseStatement]:
    if request.name is None:  # `import module`
        for statement in body:
            for node in _imports_of(statement) or ():
                if isinstance(node, cst.Import) and any(
                    _alias_name(a) == request.module and _alias_as(a) == request.asname
                    for a in node.names
                ):
                    return body  # already imported
        return _insert_statement(body, request, own)
    merge_at: tuple[int, cst.SimpleStatementLine] | None = None
    for index, statement in enumerate(body):
        for node in _imports_of(statement) or ():
            if not isinstance(node, cst.ImportFrom) or _module_of(node) != request.module:
                continue
            if isinstance(node.names, cst.ImportStar):
                continue
            aliases = list(node.names)
            if any(
                _alias_name(a) == request.name and _alias_as(a) == request.asname for a in aliases
            ):
                return body  # already imported
            plain = all(a.asname is None for a in aliases)
            if (
                merge_at is None
                and request.asname is None
                and plain
                and isinstance(statement, cst.SimpleStatementLine)
                and len(statement.body) == 1
            ):
                merge_at = (index, statement)
    if merge_at is not None:
        index, statement = merge_at
        merged = _merge(module, statement, request.name)
        if merged is not None:
            return [*body[:index], merged, *body[index + 1 :]]
    return _insert_statement(body, request, own)


def _merge(
    module: cst.Module, statement: cst.SimpleStatementLine, name: str
) -> cst.SimpleStatementLine | None:
    node = statement.body[0]
    assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
    aliases = list(node.names)
    names = [_alias_name(a) for a in aliases]
    keys = [_member_key(n) for n in names]
    new_key = _member_key(name)
    if keys == sorted(keys):
        position = next((i for i, key in enumerate(keys) if key > new_key), len(aliases))
    else:
        position = len(aliases)  # not sorted by isort: keep the user's order, add at the end
    wrapped = node.lpar is not None and "\n" in module.code_for_node(node)
    if wrapped:
        # One name per line: copy a separator between two names (or the trailing comma).
        if position < len(aliases) - 1 or (position == len(aliases) - 1 and position > 0):
            comma = aliases[max(position - 1, 0)].comma if position else aliases[0].comma
            new = cst.ImportAlias(name=cst.Name(name), comma=comma)
            aliases.insert(position, new)
        elif position == len(aliases):
            last = aliases[-1]
            separator = aliases[-2].comma if len(aliases) > 1 else last.comma
            aliases[-1] = last.with_changes(comma=separator)
            aliases.append(cst.ImportAlias(name=cst.Name(name), comma=last.comma))
        else:
            return None  # a single wrapped name: no layout to copy
        return statement.with_changes(body=[node.with_changes(names=aliases)])
    separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if position == len(aliases):
        last = aliases[-1]
        aliases[-1] = last.with_changes(comma=separator)
        aliases.append(cst.ImportAlias(name=cst.Name(name), comma=last.comma))
    else:
        aliases.insert(position, cst.ImportAlias(name=cst.Name(name), comma=separator))
    merged = statement.with_changes(body=[node.with_changes(names=aliases)])
    line = module.code_for_node(merged.with_changes(leading_lines=()))
    first = line.split("\n", 1)[0].rstrip("\r")
    if len(first) <= LINE_LENGTH or merged.trailing_whitespace.comment is not None:
        return merged
    return _wrapped(node, aliases, merged)


def _wrapped(
    node: cst.ImportFrom, aliases: list[cst.ImportAlias], statement: cst.SimpleStatementLine
) -> cst.SimpleStatementLine:
    """`from x import (` with one name per line and a trailing comma, as isort wraps."""
    indent = "    "
    line_break = cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(),
        indent=True,
        last_line=cst.SimpleWhitespace(indent),
    )
    laid_out = [
        alias.with_changes(
            comma=cst.Comma(
                whitespace_after=line_break
                if index < len(aliases) - 1
                else cst.ParenthesizedWhitespace(
                    first_line=cst.TrailingWhitespace(), last_line=cst.SimpleWhitespace("")
                )
            )
        )
        for index, alias in enumerate(aliases)
    ]
    new_node = node.with_changes(
        names=laid_out,
        lpar=cst.LeftParen(whitespace_after=line_break),
        rpar=cst.RightParen(),
    )
    return statement.with_changes(body=[new_node])


def _new_statement(request: ImportRequest) -> cst.SimpleStatementLine:
    module = cst.parse_expression(request.module)
    assert isinstance(module, (cst.Name, cst.Attribute))
    if request.name is None:
        alias = cst.ImportAlias(
            name=module,
            asname=cst.AsName(name=cst.Name(request.asname)) if request.asname else None,
        )
        return cst.SimpleStatementLine(body=[cst.Import(names=[alias])])
    alias = cst.ImportAlias(
        name=cst.Name(request.name),
        asname=cst.AsName(name=cst.Name(request.asname)) if request.asname else None,
    )
    return cst.SimpleStatementLine(body=[cst.ImportFrom(module=module, names=[alias])])


def _insert_statement(
    body: list[cst.BaseStatement], request: ImportRequest, own: frozenset[str]
) -> list[cst.BaseStatement]:
    new = _new_statement(request)
    key = (int(request.name is not None), request.module.lower(), request.module)
    # The first contiguous stretch of module-level import lines, split into blocks at blank
    # lines (the sections of a sorted file).
    start = next((i for i, s in enumerate(body) if _imports_of(s) is not None), None)
    if start is None:
        return _insert_first_block(body, new)
    end = start
    while end < len(body) and _imports_of(body[end]) is not None:
        end += 1
    # Nothing may go above `from __future__` imports (Python requires them first).
    floor = start
    while floor < end and all(
        isinstance(n, cst.ImportFrom) and _module_of(n) == "__future__"
        for n in _imports_of(body[floor]) or ()
    ):
        floor += 1
    blocks: list[tuple[int, int]] = []
    block_start = start
    for index in range(start + 1, end):
        if _starts_block(body[index]):
            blocks.append((block_start, index))
            block_start = index
    blocks.append((block_start, end))

    package = request.module.split(".")[0]

    def modules(block: tuple[int, int]) -> list[str]:
        return [_module_of(n) for s in body[block[0] : block[1]] for n in _imports_of(s) or ()]

    same = next(
        (b for b in blocks if any(m.split(".")[0] == package for m in modules(b))),
        None,
    )
    section = _section(request.module, own)
    if same is None:
        same = next(
            (b for b in blocks if all(_section(m, own) == section for m in modules(b))),
            None,
        )
    if same is not None:
        low, high = same
        position = next(
            (i for i in range(max(low, floor), high) if _statement_key(body[i]) > key),
            high,
        )
        if position == low:
            # First of its block: take over the block's blank lines, keep the comments.
            first = body[low]
            leading = list(leading_lines(first))
            blank = 0
            while blank < len(leading) and _is_blank_line(leading[blank]):
                blank += 1
            new = new.with_changes(leading_lines=leading[:blank])
            first = first.with_changes(leading_lines=leading[blank:])
            return [*body[:low], new, first, *body[low + 1 :]]
        return [*body[:position], new, *body[position:]]
    # A block of its own, after the blocks of the sections isort puts before this one.
    order = ("future", "stdlib", "third-party", "first-party", "local")
    earlier = order[: order.index(section)]
    position = start
    for low, high in blocks:
        if all(_section(m, own) in earlier for m in modules((low, high))):
            position = high
    position = max(position, floor)
    new = new.with_changes(leading_lines=_blank(1) if position > start else ())
    if position < end and not _starts_block(body[position]):
        following = body[position]
        blank_first = following.with_changes(leading_lines=[*_blank(1), *leading_lines(following)])
        body = [*body[:position], blank_first, *body[position + 1 :]]
    return [*body[:position], new, *body[position:]]


def _insert_first_block(
    body: list[cst.BaseStatement], new: cst.SimpleStatementLine
) -> list[cst.BaseStatement]:
    """The module imports nothing at its top: the import goes after the docstring, with the
    blank lines isort wants after an import block (two before a def or class, else one)."""
    position = 1 if body and _is_docstring(body[0]) else 0
    if position:
        new = new.with_changes(leading_lines=_blank(1))
    if position < len(body):
        following = body[position]
        wanted = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
        leading = list(leading_lines(following))
        blank = 0
        while blank < len(leading) and _is_blank_line(leading[blank]):
            blank += 1
        if position == 0:
            # The new line goes above the file's first lines, comments included.
            new = new.with_changes(leading_lines=leading[:blank])
            leading = leading[blank:]
            blank = 0
        following = following.with_changes(leading_lines=[*_blank(wanted), *leading[blank:]])
        return [*body[:position], new, following, *body[position + 1 :]]
    return [*body[:position], new]
