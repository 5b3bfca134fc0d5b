"""Evidence that code was written for Prefect 2: names from the migration table that only 2.x has.

The target detection scans a whole project, so this reads files with Python's own `ast`
(about half the cost of a LibCST parse) and only the files whose text may hold such a name
(`may_have_evidence`: on Prefect 3.9's own source one file of 864). Names are resolved
through the file's imports, never matched as bare text. Imports guarded as compatibility
code (`try: ... except ImportError`, a version check) are not evidence: such code is written
to run on both generations.
The fact: docs/prefect-semantics.md#prefect-2-only-names.
"""

from __future__ import annotations

import ast
import os
import re
import unicodedata
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


def _parents() -> dict[str, frozenset[str]]:
    """Each evidence row's last part -> the parts right before it (`Deployment` ->
    {`deployments`}). A canonical name is evidence when an evidence row's name is a prefix of
    it (`moved_name`), so it has such a pair of neighbouring parts."""
    parents: dict[str, set[str]] = {}
    for row in evidence_rows():
        *_, parent, word = row.old.split(".")
        parents.setdefault(word, set()).add(parent)
    return {word: frozenset(names) for word, names in parents.items()}


_PARENTS = _parents()
_WORDS = r"(?:" + "|".join(sorted(map(re.escape, _PARENTS))) + r")(?!\w)"

# The text prefilter, `may_have_evidence`, reads the text more loosely than `_Scanner`
# (strings and comments count too), never more tightly, and in time linear in the text: no
# pattern can match a text in two ways (an ambiguous gap backtracks exponentially, see
# model/relevance.py), and no stretch of text is read again for every token in it. Line
# breaks are `\n` there (Python reads `\r\n` and a lone `\r` as `\n` too).
#
# Between two tokens: spaces, line breaks (inside brackets), backslash continuations. A
# comment may stand there too (inside brackets): those rare places are read apart, with a
# bound on the work (`_LIMIT`), past which the answer is "maybe".
_SPACE = r"[ \t\f\n\\]*"
# A literal first, the look-behind after it: the search skips to the literal.
_PREFECT = re.compile(r"prefect(?!\w)(?<!\wprefect)")
# A `.`, then a table word, or a comment (a chain may go on after it).
_DOT = re.compile(r"\." + _SPACE + r"(?:(" + _WORDS + r")|#)")
_GAP = re.compile(r"(?:[ \t\f\n\\]|#[^\n]*(?![^\n]))*")
_WORD = re.compile(_WORDS)
_NAME = re.compile(r"\w+")
_ALIAS = re.compile(r"as(?!\w)(?<!\was)" + _SPACE + r"(?:(?!as(?!\w))(\w+)|#)")
# `from prefect[.a.b] import` (group 1: the module), then what it imports (`_IMPORTED`), up
# to the end of the statement: a parenthesized list (which may hold comments with `)` in
# them), or the rest of the line with its backslash continuations.
_FROM_PREFECT = re.compile(
    r"from(?!\w)(?<!\wfrom)"
    + _SPACE
    + r"(prefect(?!\w)(?:"
    + _SPACE
    + r"\."
    + _SPACE
    + r"\w+(?!\w))*)"
    + _SPACE
    + r"import(?!\w)"
)
_IMPORTED = re.compile(_SPACE + r"(?:\((?:[^)#]|#[^\n]*(?![^\n]))*|(?:[^\n\\#]|\\[\s\S])*)")
_IMPORTED_WORD = re.compile(r"(?<!\w)(" + _WORDS + r")")
_LAST_PART = re.compile(r"(\w+)[^\w]*$")
# What may stand between a chain's name and its `.` (a comment too, handled apart).
_BEFORE_DOT = frozenset(" \t\f\n\\)")
# The most text one comment gap or import list is read for, and the most such places read.
_LIMIT = 20_000
_MOST_PLACES = 500


def _name_before(text: str, dot: int) -> str | None:
    """The name a chain's `.` at `dot` follows (`x` in `x.a`, `(x).a`, `(a.x\n).a`), "" for
    none (`f().a`, `"s".a`), or None when a comment may stand between (unknown)."""
    end = dot
    crossed = False
    while end > 0 and text[end - 1] in _BEFORE_DOT:
        end -= 1
        crossed = crossed or text[end] == "\n"
    if crossed and "#" in text[text.rfind("\n", 0, end) + 1 : end]:
        return None  # the gap spans lines, and the line it starts on may end in a comment
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    if start > 0 and not text[start - 1].isascii():
        return None  # an identifier may go on with a character `\w` does not match
    return text[start:end]


class _Unknown(Exception):
    """Reading the text further would cost too much, or cannot decide: it may hold evidence."""


class _Aliases:
    """The names bound with `as`, read once when first needed."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._names: set[str] | None = None

    def __contains__(self, name: str) -> bool:
        if self._names is None:
            self._names = set()
            places = 0
            for match in _ALIAS.finditer(self._text):
                alias = match.group(1)
                if alias is None:
                    # `as  # comment`, the name on a later line (inside brackets).
                    places += 1
                    alias = _after_comment(self._text, match.end() - 1, places)
                if alias is not None:
                    self._names.add(alias)
        return name in self._names


def _after_comment(
    text: str, comment: int, places: int, word: re.Pattern[str] = _NAME
) -> str | None:
    """The `word` after the gap holding the comment at `comment`, if one is there."""
    gap = _GAP.match(text, comment, comment + _LIMIT)
    end = comment if gap is None else gap.end()  # it always matches: a gap may be empty
    if places > _MOST_PLACES or end == comment + _LIMIT:
        raise _Unknown
    found = word.match(text, end)
    return None if found is None else found.group(0)


def _chained_word(text: str) -> bool:
    """A table word W after a `.` that follows its parent P or an alias."""
    aliases = _Aliases(text)
    places = 0
    for match in _DOT.finditer(text):  # gaps hold no `.`: no dot is passed over
        word = match.group(1)
        if word is None:
            # A comment after the `.`: read the whole gap, then the word.
            places += 1
            word = _after_comment(text, match.end() - 1, places, _WORD)
            if word is None:
                continue
        before = _name_before(text, match.start())
        if before is None:
            raise _Unknown
        if before in _PARENTS[word] or (before and before in aliases):
            return True
    return False


def _imported_word(text: str) -> bool:
    """A table word W that `from prefect....P import` imports, P its parent."""
    for places, match in enumerate(_FROM_PREFECT.finditer(text)):
        limit = match.end() + _LIMIT
        names = _IMPORTED.match(text, match.end(), limit)
        if places > _MOST_PLACES or (names is not None and names.end() == limit):
            raise _Unknown
        last = _LAST_PART.search(match.group(1))
        parent = last.group(1) if last is not None else "prefect"
        if names is not None:
            for word in _IMPORTED_WORD.findall(names.group(0)):
                if parent in _PARENTS[word]:
                    return True
    return False


def may_have_evidence(text: str) -> bool:
    """Whether `_Scanner` may find evidence in `text` (False: it finds none, for certain).

    Where the scanner finds `<row>` or `<row>.x`, the row's last part W and the part P before
    it are neighbours in a name it reads from the text: written `P.W` in the text (a chain or
    a dotted import; brackets, line breaks and comments may come between), or `x.W` with `x`
    bound to a name ending in P (`x` is P itself, or an alias: `as x`), or `from prefect....P
    import W`. The name starts with `prefect`, which the text has as a whole word (in the
    import that binds it).
    """
    if not text.isascii():
        # Python reads identifiers NFKC-normalised: a fullwidth `prefect` is `prefect`.
        text = unicodedata.normalize("NFKC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _PREFECT.search(text) is None:
        return False
    try:
        return _chained_word(text) or _imported_word(text)
    except _Unknown:
        return True


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
    return scan_text(text, path) if may_have_evidence(text) else []


def scan_text(text: str, path: str) -> list[Evidence]:
    """`evidence_in_text` without the text prefilter (which decides nothing it finds)."""
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
        if b"prefect" not in data and data.isascii():
            continue
        found.extend(evidence_in_text(data.decode("utf-8", errors="replace"), path))
        if len(found) >= limit:
            return found[:limit]
    return found
