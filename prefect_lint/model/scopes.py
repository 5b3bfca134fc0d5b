"""Which names each scope binds, gathered from statements only (no expression walk).

This is deliberately lighter than LibCST's ScopeProvider: bindings are collected per scope on
demand, so a file pays only for the scopes a rule asks about. What it cannot see (an
assignment expression `:=`, names injected through `globals()`) is rare in flow code and
only ever makes a lookup *less* certain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from prefect_lint.model import api
from prefect_lint.tree import child_nodes


@dataclass(frozen=True)
class ImportBinding:
    dotted: str


@dataclass(frozen=True)
class DefBinding:
    node: cst.FunctionDef


@dataclass(frozen=True)
class AssignBinding:
    value: cst.BaseExpression


@dataclass(frozen=True)
class EnteredBinding:
    """`with value as name`: `name` is what `value.__enter__()` returned."""

    value: cst.BaseExpression


@dataclass(frozen=True)
class OpaqueBinding:
    """Bound by something we do not evaluate (a parameter, loop target, class, `del`...)."""

    node: cst.CSTNode


Binding = ImportBinding | DefBinding | AssignBinding | EnteredBinding | OpaqueBinding

ScopeNode = (
    cst.Module
    | cst.FunctionDef
    | cst.ClassDef
    | cst.Lambda
    | cst.ListComp
    | cst.SetComp
    | cst.DictComp
    | cst.GeneratorExp
)


@dataclass
class Scope:
    node: ScopeNode
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    has_star_import: bool = False

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, cst.ClassDef)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


def import_module_name(node: cst.ImportFrom) -> str | None:
    """The dotted module of `from X import ...`; None for relative imports (not resolved yet)."""
    if node.relative or node.module is None:
        return None
    return dotted_name(node.module)


def dotted_name(node: cst.BaseExpression) -> str | None:
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _bind_target(scope: Scope, target: cst.BaseExpression, binding: Binding | None) -> None:
    """Bind the names in an assignment target; only a bare name keeps the assigned value."""
    if isinstance(target, cst.Name):
        scope.bind(target.value, binding or OpaqueBinding(target))
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _bind_target(scope, element.value, None)
    elif isinstance(target, cst.StarredElement):
        _bind_target(scope, target.value, None)


def _bind_small_statement(scope: Scope, stmt: cst.BaseSmallStatement) -> None:
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                scope.bind(alias.asname.name.value, ImportBinding(api.canonical(full)))
            else:
                head = full.split(".", 1)[0]
                scope.bind(head, ImportBinding(head))
    elif isinstance(stmt, cst.ImportFrom):
        if isinstance(stmt.names, cst.ImportStar):
            scope.has_star_import = True
            return
        module = import_module_name(stmt)
        dots = "." * len(stmt.relative)
        relative_module = dotted_name(stmt.module) if stmt.module is not None else ""
        for alias in stmt.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            if module is not None:
                scope.bind(local, ImportBinding(api.canonical(f"{module}.{alias.name.value}")))
            elif relative_module is not None:
                # `from .steps import archive` -> ".steps.archive", resolved by the project index.
                path = (
                    f"{relative_module}.{alias.name.value}" if relative_module else alias.name.value
                )
                scope.bind(local, ImportBinding(dots + path))
            else:
                scope.bind(local, OpaqueBinding(alias))
    elif isinstance(stmt, cst.Assign):
        single = len(stmt.targets) == 1
        for target in stmt.targets:
            _bind_target(scope, target.target, AssignBinding(stmt.value) if single else None)
    elif isinstance(stmt, cst.AnnAssign):
        value = AssignBinding(stmt.value) if stmt.value is not None else None
        _bind_target(scope, stmt.target, value)
    elif isinstance(stmt, (cst.AugAssign, cst.Del)):
        _bind_target(scope, stmt.target, None)
    elif isinstance(stmt, cst.Global):
        scope.global_names.update(n.name.value for n in stmt.names)
    elif isinstance(stmt, cst.Nonlocal):
        scope.nonlocal_names.update(n.name.value for n in stmt.names)


def pattern_names(pattern: cst.CSTNode) -> list[str]:
    """Names a `case` pattern captures."""
    names: list[str] = []
    stack = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            names.append(node.name.value)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            names.append(node.rest.value)
        stack.extend(child_nodes(node))
    return names


def parameters(params: cst.Parameters) -> list[cst.Param]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        every.append(params.star_arg)
    if params.star_kwarg is not None:
        every.append(params.star_kwarg)
    return every


def names_in(node: cst.CSTNode) -> set[str]:
    """Every identifier that appears under `node` (slow; for small subtrees)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
        stack.extend(child_nodes(current))
    return found


def _statements(body: cst.BaseSuite | Sequence[cst.BaseStatement]) -> Iterable[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        return body.body
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    if isinstance(body, cst.BaseSuite):
        return ()  # no other kind of suite exists
    return body


def bind_statements(scope: Scope, body: cst.BaseSuite | Sequence[cst.BaseStatement]) -> None:
    """Record the bindings a block of statements makes in `scope` (not in nested scopes)."""
    for stmt in _statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _bind_small_statement(scope, small)
        elif isinstance(stmt, cst.FunctionDef):
            scope.bind(stmt.name.value, DefBinding(stmt))
        elif isinstance(stmt, cst.ClassDef):
            scope.bind(stmt.name.value, OpaqueBinding(stmt))
        elif isinstance(stmt, cst.If):
            bind_statements(scope, stmt.body)
            orelse: cst.If | cst.Else | None = stmt.orelse
            while orelse is not None:
                bind_statements(scope, orelse.body)
                orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        elif isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                _bind_target(scope, stmt.target, None)
            bind_statements(scope, stmt.body)
            if stmt.orelse is not None:
                bind_statements(scope, stmt.orelse.body)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            bind_statements(scope, stmt.body)
            for handler in stmt.handlers:
                if handler.name is not None:
                    _bind_target(scope, handler.name.name, None)
                bind_statements(scope, handler.body)
            if stmt.orelse is not None:
                bind_statements(scope, stmt.orelse.body)
            if stmt.finalbody is not None:
                bind_statements(scope, stmt.finalbody.body)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    _bind_target(scope, item.asname.name, EnteredBinding(item.item))
            bind_statements(scope, stmt.body)
        elif isinstance(stmt, cst.Match):
            for case in stmt.cases:
                for name in pattern_names(case.pattern):
                    scope.bind(name, OpaqueBinding(case))
                bind_statements(scope, case.body)


def _bind_parameters(scope: Scope, params: cst.Parameters) -> None:
    for param in parameters(params):
        scope.bind(param.name.value, OpaqueBinding(param))


def build_scope(node: ScopeNode, parent: Scope | None) -> Scope:
    scope = Scope(node=node, parent=parent)
    if isinstance(node, cst.Module):
        bind_statements(scope, node.body)
    elif isinstance(node, (cst.FunctionDef, cst.Lambda)):
        _bind_parameters(scope, node.params)
        if isinstance(node, cst.FunctionDef):
            bind_statements(scope, node.body)
    elif isinstance(node, cst.ClassDef):
        bind_statements(scope, node.body)
    else:
        comp_for: cst.CompFor | None = node.for_in
        while comp_for is not None:
            _bind_target(scope, comp_for.target, None)
            comp_for = comp_for.inner_for_in
    return scope
