"""What a file's names can evaluate to, read from Python's own `ast` before LibCST parses it.

Every rule reports on something the model resolved through the file's imports: a flow or a
task (made by `prefect.flow` / `prefect.task`, a configured wrapper, or imported from a project
module), a runner or infrastructure decorator, a name the migration table moved, a run-context
API, or `wait` / `as_completed` taken from the wrong place. The model only ever gets a
Prefect value from an import binding, from an assignment of a name or attribute chain, or from
a project module (the project index). So this collects every dotted name an import or an
attribute chain rooted at a name can evaluate to, over all scopes at once (more names than the
model sees, never fewer): `FileFacts`. Each rule's trigger (`model/precheck.py`) reads them to
decide whether the rule can report on the file; names that lead into the project are followed
by `ProjectIndex.reaches_prefect`.

The chains are found in the text with regular expressions written so that a text matches in
one way only (`_GAP`): an ambiguous pattern backtracks exponentially on a banner comment of
`#####` that no `.` follows.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from prefect_lint.model import api
from prefect_lint.model.api import UserDecorators
from prefect_lint.python_ast import python_tree

# Past this many rounds of `a = b.c` aliasing the names are not followed: the file is relevant.
_MAX_ALIAS_ROUNDS = 8
_MAX_NAMES = 20_000
_BODIES = ("body", "orelse", "finalbody")
_TRY = (ast.Try, getattr(ast, "TryStar", ast.Try))
_BINDING_STATEMENTS = frozenset({ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign})
# The statements that hold others (in `_BODIES`, handlers or cases).
_COMPOUND_STATEMENTS = frozenset(
    {
        *_TRY,
        ast.If,
        ast.For,
        ast.AsyncFor,
        ast.While,
        ast.With,
        ast.AsyncWith,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Match,
    }
)


@dataclass(frozen=True)
class FileFacts:
    """What a cheap parse tells about a file's names.

    `names`: every dotted name an import or an attribute chain may evaluate to (relative ones
    start with dots); `calls_bare_wait`: a call of a plain `wait(...)` / `as_completed(...)`
    (PFL105 reports it when nothing imports it); `opaque`: aliasing too deep to follow.
    """

    names: frozenset[str]
    calls_bare_wait: bool
    opaque: bool = False
    # Each local name bound by an import or an alias chain, and the dotted names it may hold.
    bound: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False, hash=False)


def file_facts(text: str, tree: ast.Module | None = None) -> FileFacts | None:
    """The facts of `text` (`tree`: its `ast` parse, when the caller has it); None when Python
    cannot parse it (the full parse reports why)."""
    if tree is None:
        tree = python_tree(text)
    if tree is None:
        return None
    collector = _Collector()
    try:
        if ":=" in text or not text.isascii():
            # `:=` binds inside expressions, and Python normalises non-ASCII identifiers
            # (NFKC), which the text search would miss: read every node then.
            collector.collect_nodes(tree)
        else:
            collector.collect_statements(tree.body)
    except RecursionError:
        return None
    return collector.facts(text)


# Between the links of a chain: spaces, line continuations, and comments inside brackets.
# Written so that a text matches it in one way only: an ambiguous gap (a comment that may
# end at any `#` inside it) backtracks exponentially on a line of `#####` that no `.` follows.
_GAP = r"[ \t\f]*(?:(?:#[^\r\n]*|\\)?\r?\n[ \t\f]*)*"
# `(a).b` and `(a.b).c` are chains too.
_LINK = re.compile(r"(?:" + _GAP + r"\))*" + _GAP + r"\." + _GAP + r"([^\W\d]\w*)")
# What may follow a whole name that a link follows (the first character of `_LINK` after
# it): where a chain may start. Each bound name is found with `str.find` and this checked
# after (measured on the benchmark corpus: less than half the time of one pattern matching
# every name of the text, whose matches were then looked up).
_CHAIN_START = re.compile(r"[ \t\f]*[.)#\\\r\n]")
# A call of a plain `wait(...)` / `as_completed(...)`; the name must not continue another
# name or an attribute, which is checked after a match (a lookbehind first in the pattern
# keeps the regular expression engine from skipping ahead to a `w` or an `a`: 2.5x slower).
_BARE_WAIT = re.compile(r"(?:" + "|".join(api.FUTURES_ONLY) + r")" + _GAP + r"\(")
# What may come right before or after a whole name: neither of these.
_NAME_OR_DOT = re.compile(r"[\w.]")
_WORD = re.compile(r"\w")


class _Collector:
    def __init__(self) -> None:
        self.bound: dict[str, set[str]] = {}  # local name -> dotted values it may hold
        self.names: set[str] = set()
        self.aliases: list[tuple[str, ast.expr]] = []
        self.chains: list[tuple[str, tuple[str, ...]]] = []
        self.by_nodes = False

    def bind(self, local: str, dotted: str) -> None:
        self.bound.setdefault(local, set()).add(dotted)

    def collect_statements(self, body: list[ast.stmt]) -> None:
        """Imports and assignments bind names; only statements hold them (no `:=` here)."""
        stack = list(body)
        binding, compound = _BINDING_STATEMENTS, _COMPOUND_STATEMENTS
        while stack:
            node = stack.pop()
            kind = type(node)  # `ast.parse` makes no subclasses: dispatch on the exact type
            if kind in binding:
                self.statement(node)
                continue
            if kind not in compound:
                continue
            for part in _BODIES:
                inner = getattr(node, part, None)
                if inner:
                    stack.extend(inner)
            if kind in _TRY:
                for handler in cast(ast.Try, node).handlers:
                    stack.extend(handler.body)
            elif kind is ast.Match:
                for case in cast(ast.Match, node).cases:
                    stack.extend(case.body)

    def collect_nodes(self, tree: ast.AST) -> None:
        self.by_nodes = True
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                attrs: list[str] = []
                current: ast.expr = node
                while isinstance(current, ast.Attribute):
                    attrs.append(current.attr)
                    current = current.value
                if isinstance(current, ast.Name):
                    self.chains.append((current.id, tuple(reversed(attrs))))
            elif isinstance(node, ast.NamedExpr):
                if isinstance(node.target, ast.Name):
                    self.aliases.append((node.target.id, node.value))
            elif isinstance(node, ast.stmt):
                self.statement(node)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.names.add(alias.name)
                if alias.asname:
                    self.bind(alias.asname, api.canonical(alias.name))
                else:
                    head = alias.name.split(".", 1)[0]
                    self.bind(head, head)
        elif isinstance(node, ast.ImportFrom):
            self._import_from(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            single = not isinstance(node, ast.Assign) or len(node.targets) == 1
            if single and isinstance(target, ast.Name) and node.value is not None:
                self.aliases.append((target.id, node.value))

    def _import_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            dots = "." * node.level
            self.names.add(dots + module)
            for alias in node.names:
                if alias.name == "*":
                    continue
                path = f"{module}.{alias.name}" if module else alias.name
                self.bind(alias.asname or alias.name, dots + path)
            return
        self.names.add(module)
        for alias in node.names:
            if alias.name == "*":
                # Names from a star import stay unknown to the model; the module is noted.
                continue
            full = f"{module}.{alias.name}"
            self.names.add(full)
            self.bind(alias.asname or alias.name, api.canonical(full))

    def _values(self, expr: ast.expr) -> set[str]:
        return chain_values(expr, self.bound)

    def _text_chains(self, text: str) -> None:
        """Every `name.attr...` in the text whose first name is bound by an import or
        an alias (strings and comments too: more chains than the code has, never fewer)."""
        find, starts, link_at = text.find, _CHAIN_START.match, _LINK.match
        for root in self.bound:
            position = find(root)
            while position >= 0:
                end = position + len(root)
                # A whole name, not an attribute (`x.flow`), that a link may follow.
                if (
                    _starts_a_name(text, position)
                    and not _WORD.match(text, end)
                    and starts(text, end)
                ):
                    attrs: list[str] = []
                    link = link_at(text, end)
                    while link is not None:
                        attrs.append(link.group(1))
                        link = link_at(text, link.end())
                    if attrs:
                        self.chains.append((root, tuple(attrs)))
                position = find(root, end)

    def facts(self, text: str) -> FileFacts:
        opaque = True
        for _ in range(_MAX_ALIAS_ROUNDS):
            changed = False
            for local, value in self.aliases:
                new = self._values(value) - self.bound.get(local, set())
                if new:
                    self.bound.setdefault(local, set()).update(new)
                    changed = True
            if not changed:
                opaque = False
                break
        if not self.by_nodes:
            self._text_chains(text)
        names = set(self.names)
        for values in self.bound.values():
            names.update(values)
        for root, attrs in self.chains:
            for base in self.bound.get(root, ()):
                current = base
                for attr in attrs:
                    current = api.canonical(f"{current}.{attr}")
                    names.add(current)
            if len(names) > _MAX_NAMES:
                opaque = True
                break
        bare_wait = _calls_bare_wait(text)
        bound = {local: frozenset(values) for local, values in self.bound.items()}
        return FileFacts(frozenset(names), bare_wait, opaque, bound)


def _calls_bare_wait(text: str) -> bool:
    position = 0
    while True:
        match = _BARE_WAIT.search(text, position)
        if match is None:
            return False
        start = match.start()
        if _starts_a_name(text, start):
            return True
        position = start + 1


def _starts_a_name(text: str, position: int) -> bool:
    """Whether the name at `position` stands alone: neither a longer name's end nor an
    attribute (no word character and no `.` right before it)."""
    return position == 0 or not _NAME_OR_DOT.match(text, position - 1)


def chain_values(expr: ast.expr, bound: Mapping[str, Iterable[str]]) -> set[str]:
    """The dotted names a `name.attr...` chain may evaluate to, its first name read from
    `bound` (`FileFacts.bound`); none for any other expression."""
    chain = root_and_values(expr, bound)
    return chain[1] if chain is not None else set()


def root_and_values(
    expr: ast.expr, bound: Mapping[str, Iterable[str]]
) -> tuple[str, set[str]] | None:
    """The first name of a `name.attr...` chain and the dotted names the chain may evaluate
    to (see `chain_values`); None for any other expression."""
    attrs: list[str] = []
    while isinstance(expr, ast.Attribute):
        attrs.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    return expr.id, {_extend(base, reversed(attrs)) for base in bound.get(expr.id, ())}


def _extend(base: str, attrs: Iterable[str]) -> str:
    current = base
    for attr in attrs:
        current = api.canonical(f"{current}.{attr}")
    return current


def is_prefect_family(name: str, decorators: UserDecorators) -> bool:
    """A name of Prefect or of a `prefect-*` integration, or a configured wrapper."""
    root = name.partition(".")[0]
    return root == "prefect" or root.startswith("prefect_") or _configured(name, decorators)


def _configured(name: str, decorators: UserDecorators) -> bool:
    return decorators.kind_of(name) is not None


def project_names(facts: FileFacts, decorators: UserDecorators) -> list[str]:
    """The names that may lead into project modules (never Prefect's own)."""
    return [name for name in facts.names if name and not is_prefect_family(name, decorators)]
