"""Evidence that code was written for Prefect 2: names from the migration table that only 2.x has.

The target detection scans a whole project, so this reads files with Python's own `ast`
(about half the cost of a LibCST parse) and only the files whose text names one of the table's
words. Names are resolved through the file's imports, never matched as bare text. Imports
guarded as compatibility code (`try: ... except ImportError`, a version check) are not
evidence: such code is written to run on both generations.
The fact: docs/prefect-semantics.md#prefect-2-only-names.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from prefect_lint.model.migration import evidence_rows, moved_name
from prefect_lint.model.root import ROOT_MARKERS
from prefect_lint.python_ast import python_tree

# Directories never holding the project's own code.
_SKIPPED_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "build", "dist", "venv", "env"}
)
_COMPAT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "Exception"})


@dataclass(frozen=True)
class Evidence:
    """One use of a 2.x-only name: where, and the canonical name."""

    path: str
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name}"


def _words() -> re.Pattern[str]:
    words = {part for row in evidence_rows() for part in row.old.split(".")[1:][-1:]}
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")


_WORDS = _words()


def _is_2x_only(canonical: str) -> bool:
    row = moved_name(canonical)
    return row is not None and row.marks_2x


def _guards_imports(node: ast.Try) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for kind in types:
            name = kind.id if isinstance(kind, ast.Name) else getattr(kind, "attr", None)
            if name in _COMPAT_ERRORS:
                return True
    return False


def _checks_version(test: ast.expr) -> bool:
    for node in ast.walk(test):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        if isinstance(name, str) and "version" in name.lower():
            return True
    return False


class _Scanner:
    def __init__(self, path: str) -> None:
        self.path = path
        self.bound: dict[str, str] = {}  # local name -> canonical module or object
        self.found: list[Evidence] = []

    def note(self, canonical: str, line: int) -> None:
        if canonical.split(".", 1)[0] == "prefect" and _is_2x_only(canonical):
            self.found.append(Evidence(self.path, line, canonical))

    def statements(self, body: list[ast.stmt], guarded: bool) -> None:
        for statement in body:
            self.statement(statement, guarded)

    def statement(self, node: ast.stmt, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.bound[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    self.bound[head] = head
                if not guarded:
                    self.note(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                return
            for alias in node.names:
                canonical = f"{node.module}.{alias.name}"
                self.bound[alias.asname or alias.name] = canonical
                if not guarded:
                    self.note(canonical, node.lineno)
        elif isinstance(node, ast.Try):
            inner = guarded or _guards_imports(node)
            self.statements(node.body, inner)
            for handler in node.handlers:
                self.statements(handler.body, inner)
            self.statements(node.orelse, guarded)
            self.statements(node.finalbody, guarded)
        elif isinstance(node, ast.If):
            inner = guarded or _checks_version(node.test)
            self.expressions(node.test, inner)
            self.statements(node.body, inner)
            self.statements(node.orelse, inner)
        else:
            for field in ast.iter_fields(node):
                value = field[1]
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.stmt):
                            self.statement(item, guarded)
                        elif isinstance(item, ast.AST):
                            self.expressions(item, guarded)
                elif isinstance(value, ast.AST):
                    self.expressions(value, guarded)

    def expressions(self, node: ast.AST, guarded: bool) -> None:
        if guarded:
            return
        inner: set[int] = set()  # links of a chain already read whole from its outer end
        for child in ast.walk(node):  # breadth first: a chain's outer end comes first
            if not isinstance(child, ast.Attribute) or id(child) in inner:
                continue
            link = child.value
            while isinstance(link, ast.Attribute):
                inner.add(id(link))
                link = link.value
            if isinstance(child.ctx, ast.Load):
                dotted = _dotted(child, self.bound)
                if dotted is not None:
                    self.note(dotted, child.lineno)


def _dotted(node: ast.Attribute, bound: dict[str, str]) -> str | None:
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name) or current.id not in bound:
        return None
    return ".".join([bound[current.id], *reversed(parts)])


def evidence_in_text(text: str, path: str) -> list[Evidence]:
    """The 2.x-only names `text` uses (in source order, each statement once)."""
    if "prefect" not in text or not _WORDS.search(text):
        return []
    tree = python_tree(text)
    if tree is None:
        return []
    scanner = _Scanner(path)
    scanner.statements(tree.body, guarded=False)
    seen: set[tuple[int, str]] = set()
    unique = []
    for item in scanner.found:
        if (item.line, item.name) not in seen:
            seen.add((item.line, item.name))
            unique.append(item)
    return unique


def _python_files(root: str) -> Iterator[str]:
    # A root without a project marker is only where imports start (a script's directory,
    # perhaps /tmp or a home directory): its scripts and packages are the project, the other
    # directories are not.
    marked = any(os.path.exists(os.path.join(root, marker)) for marker in ROOT_MARKERS)
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIPPED_DIRS
            and not os.path.exists(os.path.join(directory, d, "pyvenv.cfg"))
            and (marked or os.path.isfile(os.path.join(directory, d, "__init__.py")))
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def project_evidence(root: str, limit: int = 5) -> list[Evidence]:
    """Up to `limit` uses of 2.x-only names in the project's Python files."""
    found: list[Evidence] = []
    for path in _python_files(root):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if b"prefect" not in data:
            continue
        found.extend(evidence_in_text(data.decode("utf-8", errors="replace"), path))
        if len(found) >= limit:
            return found[:limit]
    return found
