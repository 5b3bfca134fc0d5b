"""Turn a rule's `CstFix` (node replacements + imports) into text edits on the source."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from prefect_lint.diagnostics import Fix
from prefect_lint.fixes.edits import diff_edits
from prefect_lint.rules.base import CstFix


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: CstFix) -> None:
        self._by_id = {id(node): new for node, new in replacements.replacements.items()}

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        return self._by_id.get(id(original_node), updated_node)


class _AppendingAddImports(AddImportsVisitor):
    """LibCST's import merging, but new names go after the existing ones (`flow, task`)."""

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        merged = super().leave_ImportFrom(original_node, updated_node)
        if isinstance(merged.names, cst.ImportStar) or isinstance(
            updated_node.names, cst.ImportStar
        ):
            return merged
        existing = len(updated_node.names)
        added = len(merged.names) - existing
        # Only a simple `a, b` list is reordered; a trailing comma means a hand-made layout.
        if added <= 0 or not isinstance(updated_node.names[-1].comma, cst.MaybeSentinel):
            return merged
        names = list(merged.names)
        return merged.with_changes(names=[*names[added:], *names[:added]])


def render_fix(module: cst.Module, source: str, fix: CstFix) -> Fix | None:
    """The text edits of `fix`, or None when it changes nothing or cannot be built."""
    try:
        new_module = module.visit(_Replace(fix)) if fix.replacements else module
        if fix.transformer is not None:
            new_module = new_module.visit(fix.transformer)
        if fix.imports:
            context = CodemodContext()
            for request in fix.imports:
                AddImportsVisitor.add_needed_import(
                    context, request.module, request.name, request.asname
                )
            new_module = _AppendingAddImports(context).transform_module(new_module)
        if fix.unused_imports:
            context = CodemodContext()
            for request in fix.unused_imports:
                RemoveImportsVisitor.remove_unused_import(
                    context, request.module, request.name, request.asname
                )
            new_module = RemoveImportsVisitor(context).transform_module(new_module)
        new_source = new_module.code
    except Exception:  # a rule built an impossible tree: drop the fix, keep the diagnostic
        return None
    if new_source == source:
        return None
    unused = tuple((request.module, request.name) for request in fix.unused_imports)
    return Fix(fix.title, fix.applicability, tuple(diff_edits(source, new_source)), unused)


def remove_unused_imports(source: str, imports: Iterable[tuple[str, str]]) -> str:
    """`source` without those of `imports` that nothing refers to any more."""
    context = CodemodContext()
    for module, name in imports:
        RemoveImportsVisitor.remove_unused_import(context, module, name)
    try:
        return RemoveImportsVisitor(context).transform_module(cst.parse_module(source)).code
    except Exception:  # a cleanup must never cost the fixes themselves
        return source
