"""Turn a rule's `CstFix` (node changes + imports) into text edits on the source.

Rendering must cost about what the fix touches, not what the file holds: `--fix` renders
every fix of every pass, and JSON output and editors render each diagnostic's fix. So a fix
is applied to the module-level statements that hold the nodes it replaces (found through one
map per check, built on first use), only those are generated again, and the import it needs
is placed among the module-level import lines (`prefect_lint.fixes.imports`). A fix whose
reach cannot be known (imports to remove, nodes outside any statement) falls back to
transforming the whole module. All of a fix's node changes are made in one pass: nodes are
found by identity, and LibCST rebuilds every node a pass visits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from prefect_lint.diagnostics import Edit, Fix
from prefect_lint.fixes.edits import diff_edits
from prefect_lint.fixes.imports import add_imports, first_party
from prefect_lint.records import CstFix
from prefect_lint.tree import Replacement, child_nodes


class _Replace(cst.CSTTransformer):
    def __init__(self, fix: CstFix) -> None:
        self._by_id = {id(node): new for node, new in fix.replacements.items()}

    # A replacement may be another kind of node (a statement becomes an `if`), which LibCST's
    # signature (the same node type out as in) cannot say.
    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> Replacement:
        return self._by_id.get(id(original_node), updated_node)


def _one_pass(fix: CstFix) -> cst.CSTTransformer | None:
    """The transformer making all of `fix`'s node changes (None: it makes none)."""
    if fix.transformer is not None:
        if fix.replacements:
            return fix.transformer.with_replacements(fix.replacements)
        return fix.transformer
    return _Replace(fix) if fix.replacements else None


class RenderSession:
    """Renders the fixes of one check of one module; shares what they all need."""

    def __init__(self, module: cst.Module, source: str, path: str = "-") -> None:
        self.module = module
        self.source = source
        self.path = path
        self._index = {id(statement): i for i, statement in enumerate(module.body)}
        code = module.code_for_node
        # Where each module-level statement starts, as far as computed so far (see `offset`).
        self._offsets = [sum(len(code(line)) for line in module.header)]
        # Node ids inside each module-level statement, computed on first need.
        self._ids: dict[int, set[int]] = {}

    def offset(self, index: int) -> int:
        """Where module-level statement `index` starts (`len(body)`: where the last ends).

        Generated statement by statement up to the one asked for: LibCST gives back the exact
        source, and the statements after the last one a fix touches are never generated.
        """
        offsets = self._offsets
        while len(offsets) <= index:
            statement = self.module.body[len(offsets) - 1]
            offsets.append(offsets[-1] + len(self.module.code_for_node(statement)))
        return offsets[index]

    def _ids_in(self, index: int) -> set[int]:
        ids = self._ids.get(index)
        if ids is None:
            ids = set()
            stack: list[cst.CSTNode] = [self.module.body[index]]
            while stack:
                node = stack.pop()
                ids.add(id(node))
                stack.extend(child_nodes(node))
            self._ids[index] = ids
        return ids

    def owners(self, touched: Iterable[int], hint: cst.CSTNode | None) -> set[int] | None:
        """The indices of the module-level statements holding the `touched` node ids (the
        statement `hint`, where the rule reported, first), or None if one is in none."""
        missing = set(touched)
        found: set[int] = set()
        order = list(range(len(self.module.body)))
        first = self._index.get(id(hint)) if hint is not None else None
        if first is not None:
            order.insert(0, order.pop(first))
        for index in order:
            if not missing:
                break
            inside = missing & self._ids_in(index)
            if inside:
                found.add(index)
                missing -= inside
        return None if missing else found

    def render(self, fix: CstFix, hint: cst.CSTNode | None = None) -> tuple[Edit, ...] | None:
        touched = [id(node) for node in fix.replacements]
        if fix.transformer is not None:
            touched.extend(fix.transformer.target_ids())
        if fix.unused_imports:
            return self._render_module(fix)
        indices = self.owners(touched, hint)
        if indices is None:
            return self._render_module(fix)
        change = _one_pass(fix)
        body: list[cst.BaseStatement] = []
        for index, statement in enumerate(self.module.body):
            if index not in indices:
                body.append(statement)
                continue
            new = statement.visit(change) if change is not None else statement
            if isinstance(new, cst.FlattenSentinel):
                body.extend(new.nodes)
            elif isinstance(new, cst.BaseStatement):
                body.append(new)
        if fix.imports:
            body = add_imports(self.module, body, fix.imports, first_party(self.path))
        return tuple(self._splice(body))

    def _splice(self, body: Sequence[cst.BaseStatement]) -> list[Edit]:
        """Edits turning the module's statements into `body`, where untouched statements are
        the original nodes: only the stretches between them are generated and compared."""
        edits: list[Edit] = []
        expected = 0  # the next original statement not yet accounted for
        pending: list[cst.BaseStatement] = []
        for node in body:
            index = self._index.get(id(node))
            if index is None or index < expected:
                pending.append(node)
                continue
            if index > expected or pending:
                edits.extend(self._region(expected, index, pending))
            pending = []
            expected = index + 1
        if expected < len(self.module.body) or pending:
            edits.extend(self._region(expected, len(self.module.body), pending))
        return edits

    def _region(self, first: int, stop: int, nodes: list[cst.BaseStatement]) -> list[Edit]:
        start, end = self.offset(first), self.offset(stop)
        old = self.source[start:end]
        new = "".join(self.module.code_for_node(node) for node in nodes)
        if old == new:
            return []
        return [Edit(start + e.start, start + e.end, e.content) for e in diff_edits(old, new)]

    def _render_module(self, fix: CstFix) -> tuple[Edit, ...]:
        change = _one_pass(fix)
        new_module = self.module.visit(change) if change is not None else self.module
        if fix.imports:
            new_module = new_module.with_changes(
                body=add_imports(new_module, new_module.body, fix.imports, first_party(self.path))
            )
        if fix.unused_imports:
            # Imported here: LibCST's codemod package costs about 0.4 s to import.
            from libcst.codemod import CodemodContext
            from libcst.codemod.visitors import RemoveImportsVisitor

            context = CodemodContext()
            for request in fix.unused_imports:
                RemoveImportsVisitor.remove_unused_import(
                    context, request.module, request.name, request.asname
                )
            new_module = RemoveImportsVisitor(context).transform_module(new_module)
        return tuple(diff_edits(self.source, new_module.code))


def render_fix(
    module: cst.Module,
    source: str,
    fix: CstFix,
    session: RenderSession | None = None,
    hint: cst.CSTNode | None = None,
) -> Fix | None:
    """The text edits of `fix`, or None when it changes nothing or cannot be built.

    `session` shares work between the fixes of one check; `hint` is the module-level
    statement the diagnostic is in, where the fix's nodes are looked for first.
    """
    try:
        edits = (session or RenderSession(module, source)).render(fix, hint)
    except Exception:  # a rule built an impossible tree: drop the fix, keep the diagnostic
        return None
    if not edits:
        return None
    unused = tuple((request.module, request.name) for request in fix.unused_imports)
    return Fix(fix.title, fix.applicability, edits, unused)


def remove_unused_imports(source: str, imports: Iterable[tuple[str, str | None]]) -> str:
    """`source` without those of `imports` that nothing refers to any more."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import RemoveImportsVisitor

    context = CodemodContext()
    for module, name in imports:
        RemoveImportsVisitor.remove_unused_import(context, module, name)
    try:
        return RemoveImportsVisitor(context).transform_module(cst.parse_module(source)).code
    except Exception:  # a cleanup must never cost the fixes themselves
        return source
