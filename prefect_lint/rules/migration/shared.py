"""What the PFL3xx rules share: compatibility-code detection and the moved-name rule body.

PFL301 (removed) and PFL311 (deprecated) are one table read two ways: each reports the rows
of its own `Change`. Names are resolved through the module's imports: an import statement
names its module itself, and an attribute use (`prefect.engine.pause_flow_run`,
`deployments.Deployment`) is resolved through the model, never by its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.engine.context import RuleContext
from prefect_lint.model import precheck
from prefect_lint.model.migration import MOVED_NAMES, Change, MovedName, moved_name
from prefect_lint.model.module import ModuleModel, reference_to
from prefect_lint.model.scopes import dotted_name, import_module_name, names_in
from prefect_lint.model.values import Dotted
from prefect_lint.rules.base import CstFix, ImportRequest, Rule
from prefect_lint.tree import Replacement, child_nodes

# Handlers that make a `try:` a compatibility shim (`except ImportError: <2.x spelling>`).
_COMPAT_ERRORS = frozenset(
    {"ImportError", "ModuleNotFoundError", "AttributeError", "Exception", "BaseException"}
)


def _catches_compat_error(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    if handler.type is None:
        return True
    types = (
        [element.value for element in handler.type.elements]
        if isinstance(handler.type, cst.Tuple)
        else [handler.type]
    )
    for kind in types:
        name = kind.attr.value if isinstance(kind, cst.Attribute) else getattr(kind, "value", None)
        if name in _COMPAT_ERRORS:
            return True
    return False


def _mentions_version(test: cst.BaseExpression) -> bool:
    """`if PREFECT_VERSION >= ...`, `if prefect.__version__.startswith("2")`, ..."""
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and "version" in node.value.lower():
            return True
        if isinstance(node, cst.Attribute):
            stack.append(node.value)
            if "version" in node.attr.value.lower():
                return True
        elif isinstance(node, cst.Call):
            stack.append(node.func)
            stack.extend(arg.value for arg in node.args)
        elif isinstance(node, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation)):
            stack.extend(
                child
                for child in (
                    getattr(node, "left", None),
                    getattr(node, "right", None),
                    getattr(node, "expression", None),
                )
                if child is not None
            )
            if isinstance(node, cst.Comparison):
                stack.extend(target.comparator for target in node.comparisons)
        elif isinstance(node, cst.Subscript):
            stack.append(node.value)
    return False


def in_compat_code(ancestors: Sequence[cst.CSTNode]) -> bool:
    """Inside `try: ... except ImportError:` (either side) or a branch of a version check:
    code written to run on both Prefect generations, which the family leaves alone."""
    for index, node in enumerate(ancestors):
        child = ancestors[index + 1] if index + 1 < len(ancestors) else None
        if isinstance(node, (cst.Try, cst.TryStar)):
            guarded = any(_catches_compat_error(h) for h in node.handlers)
            if guarded and (child is node.body or child in node.handlers):
                return True
        elif isinstance(node, cst.If) and child is not node.test and _mentions_version(node.test):
            return True
    return False


def _remaining(node: cst.ImportFrom, removed: cst.ImportAlias) -> list[cst.ImportAlias]:
    assert not isinstance(node.names, cst.ImportStar)
    kept = [alias for alias in node.names if alias is not removed]
    if kept:
        comma = node.names[-1].comma if node.lpar is not None else cst.MaybeSentinel.DEFAULT
        kept[-1] = kept[-1].with_changes(comma=comma)
    return kept


def _alias_names(alias: cst.ImportAlias) -> tuple[str, str] | None:
    """(imported name, local name) of `name [as local]`."""
    if not isinstance(alias.name, cst.Name):
        return None
    name = alias.name.value
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return name, alias.asname.name.value
    return name, name


# The last part of each object row's name, with the module words one of which a file must
# contain to reach it as an attribute (`x.get` matters only in a file naming `variables`).
_ROW_ATTRS: dict[str, frozenset[str]] = {}
for _row in MOVED_NAMES:
    if not _row.module:
        _module, _, _attr = _row.old.rpartition(".")
        _ROW_ATTRS[_attr] = _ROW_ATTRS.get(_attr, frozenset()) | {_module.rpartition(".")[2]}
_NEW_MODULES = frozenset(row.new_import[0] for row in MOVED_NAMES if row.new_import is not None)
_ROW_WORDS = frozenset(part for row in MOVED_NAMES for part in row.old.split(".")[1:])


def moved_names_trigger(change: Change) -> precheck.Trigger:
    """A name the migration table moved with this `change` is named (or project values)."""

    def moved(name: str) -> bool:
        row = moved_name(name) if name.startswith("prefect") else None
        return row is not None and row.change is change

    return precheck.names_trigger(f"a name the migration table marks {change.name}", moved)


class MovedNameRule(Rule):
    """Reports imports and attribute uses of the table's rows of `change` (the base of
    `RemovedIn3` and `DeprecatedIn3`)."""

    change: ClassVar[Change]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "meta" in vars(cls):
            # The docs close with the table of the rule's rows, under Versions.
            cls.meta = replace(cls.meta, docs=_with_rows_table(cls.meta.docs, cls.change))

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._import_depth = 0
        # Renamed from-imports whose uses must follow: (row, alias, import, local, statement).
        self._renames: list[
            tuple[MovedName, cst.ImportAlias, cst.ImportFrom, str, cst.CSTNode]
        ] = []
        self._relevant = _ROW_WORDS.intersection(_module_words(context))
        self._use_cache: dict[str, list[cst.Name] | None] | None = None
        # Attribute names worth resolving in this file.
        self._attrs = frozenset(
            attr
            for attr, modules in _ROW_ATTRS.items()
            if attr in self._relevant and modules & self._relevant
        )

    # -- messages ---------------------------------------------------------------------------

    def _message(self, row: MovedName, spelled: str) -> str:
        if self.change is Change.REMOVED:
            what = row.error.partition(":")[0]
            return f"`{spelled}` is gone in Prefect 3 ({what}): {row.hint}"
        if row.silent:
            return f"`{spelled}` is a deprecated alias in Prefect 3: {row.hint}"
        return f"`{spelled}` is deprecated in Prefect 3 (DeprecationWarning): {row.hint}"

    def _row(self, dotted: str) -> MovedName | None:
        row = moved_name(dotted)
        return row if row is not None and row.change is self.change else None

    def _report_row(
        self,
        node: cst.CSTNode,
        row: MovedName,
        spelled: str,
        fix: CstFix | None,
        statement: cst.CSTNode | None = None,
    ) -> None:
        self.report(
            node,
            self._message(row, spelled),
            fix=fix,
            statement=statement,
            versions=row.versions,
        )

    # -- imports ----------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        self._import_depth += 1
        if not self._relevant or in_compat_code(self.context.ancestors):
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            row = self._row(name) if name is not None else None
            if row is not None and row.module:
                self._report_row(alias, row, name or row.old, None)

    def leave_Import(self, node: cst.Import) -> None:
        self._import_depth -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._import_depth += 1
        if not self._relevant or isinstance(node.names, cst.ImportStar):
            return
        module = import_module_name(node)
        if module is None or not (module == "prefect" or module.startswith("prefect.")):
            return
        if in_compat_code(self.context.ancestors):
            return
        module_row = self._row(module)
        if module_row is not None and module_row.module:
            assert node.module is not None
            self._report_row(node.module, module_row, module, None)
            return
        for alias in node.names:
            names = _alias_names(alias)
            if names is None:
                continue
            row = self._row(f"{module}.{names[0]}")
            if row is None:
                continue
            if row.new_import is None:
                self._report_row(alias, row, f"{module}.{names[0]}", None)
            else:
                # Reported with its fix once every use of the local name is known.
                line = self.context.statement_of(node)
                self._renames.append((row, alias, node, names[1], line))

    def leave_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._import_depth -= 1

    # -- attribute uses ---------------------------------------------------------------------

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._import_depth or node.attr.value not in self._attrs:
            return
        base = self.context.evaluate(node.value, node)
        if not isinstance(base, Dotted) or not base.name.startswith("prefect"):
            return
        old = f"{base.name}.{node.attr.value}"
        row = self._row(old)
        if row is None or row.module or in_compat_code(self.context.ancestors):
            return
        self._report_row(node, row, old, self._attribute_fix(node, row))

    def _attribute_fix(self, node: cst.Attribute, row: MovedName) -> CstFix | None:
        target = row.new_import
        if target is None:
            return None
        module, name, path = target
        reference = reference_to(self.context.model, f"{module}.{name}", self.context.scope(node))
        if reference is None:
            return None
        text, needs_import = reference
        replacement = cst.parse_expression(text + path)
        imports = [ImportRequest(module, name)] if needs_import else []
        unused: list[ImportRequest] = []
        base = self.context.evaluate(node.value, node)
        if isinstance(node.value, cst.Name) and isinstance(base, Dotted):
            # `from prefect import variables; variables.get(...)`: `variables` may be unused now.
            owner, _, imported = base.name.rpartition(".")
            if owner:
                local = node.value.value
                unused.append(ImportRequest(owner, imported, local if local != imported else None))
        return CstFix(
            f"Use `{row.new}`".replace(":", "."),
            Applicability.SAFE,
            {node: replacement},
            imports,
            unused,
        )

    # -- renamed from-imports ---------------------------------------------------------------

    def _uses(self) -> dict[str, list[cst.Name] | None]:
        """The uses of every renamed import's local name (one walk, on first need)."""
        if self._use_cache is None:
            locals_ = frozenset(rename[3] for rename in self._renames)
            self._use_cache = _uses_of_names(self.context.model, self.context.module, locals_)
        return self._use_cache

    def leave_Module(self, node: cst.Module) -> None:
        for row, alias, statement, local, line in self._renames:
            self._report_row(
                alias,
                row,
                row.old,
                self._import_fix(row, alias, statement, local),
                line,
            )

    def _import_fix(
        self, row: MovedName, alias: cst.ImportAlias, statement: cst.ImportFrom, local: str
    ) -> CstFix | None:
        target = row.new_import
        assert target is not None
        module, name, path = target
        line = _line_of(self.context.module, statement)
        if line is None:
            return None  # not a module-level import: left to a person
        model = self.context.model
        replacements: dict[cst.CSTNode, Replacement]
        replacements = {}
        imported = _alias_names(alias)
        aliased = imported is not None and imported[0] != local
        keeps_local = not path and (name == local or aliased)
        if keeps_local:
            # `from old import X [as y]` -> `from new import X [as y]`: uses stay as they are.
            new_local = local
        else:
            uses = self._uses().get(local)
            if uses is None:
                return None
            # The new name must be free (or already mean the new object) in the module.
            scope = model.module_scope
            bound = model.lookup(name, scope)
            taken = model.is_bound(name, scope) or name in model.walrus_names
            if name != local and taken and bound != Dotted(f"{module}.{name}"):
                return None
            new_local = name
            for use in uses:
                replacements[use] = cst.parse_expression(name + path)
        asname = new_local if new_local != name else None
        kept = _remaining(statement, alias)
        imports: list[ImportRequest] = []
        old_module = import_module_name(statement)
        in_place = old_module == module or old_module not in _NEW_MODULES
        if not kept and in_place and not _imports_from(self.context.module, module):
            # The statement's one name moves: rewrite it where it stands. (Not when another
            # row's fix may merge into this statement: its edit would land on the old line.)
            moved = cst.ImportAlias(
                name=cst.Name(name),
                asname=cst.AsName(name=cst.Name(asname)) if asname else None,
            )
            new_module = cst.parse_expression(module)
            assert isinstance(new_module, (cst.Attribute, cst.Name))
            replacements[statement] = statement.with_changes(
                module=new_module, names=[moved], lpar=None, rpar=None
            )
        else:
            # Merged into the module's imports of the new module (or a new one).
            if kept:
                replacements[statement] = statement.with_changes(names=kept)
            elif len(line.body) == 1:
                replacements[line] = cst.RemovalSentinel.REMOVE
            else:
                replacements[statement] = cst.RemovalSentinel.REMOVE
            imports.append(ImportRequest(module, name, asname))
        return CstFix(f"Import `{name}` from `{module}`", Applicability.SAFE, replacements, imports)


def _imports_from(module: cst.Module, name: str) -> bool:
    """Does the module already have a top-level `from <name> import ...`?"""
    for line in module.body:
        if isinstance(line, cst.SimpleStatementLine):
            for small in line.body:
                if isinstance(small, cst.ImportFrom) and import_module_name(small) == name:
                    return True
    return False


def _with_rows_table(docs: str, change: Change) -> str:
    """A moved-name rule's docs, closed by the table of its rows (under its Versions)."""
    return f"{docs}\n\nEvery row:\n\n{_rows_table(change)}\n"


def _rows_table(change: Change) -> str:
    """The Markdown table of the rows of `change`."""
    lines = ["| Prefect 2 name | fails or warns on | use instead | fix |", "|---|---|---|---|"]
    for row in MOVED_NAMES:
        if row.change is change:
            old = f"`{row.old}`" + (" (module)" if row.module else "")
            fix = "safe" if row.new is not None else "by hand"
            hint = row.hint.replace("|", "\\|")
            lines.append(f"| {old} | {row.versions.describe()} | {hint} | {fix} |")
    return "\n".join(lines)


def _module_words(context: RuleContext) -> frozenset[str]:
    """Which of the table's words the module's text contains (empty: the rules stay idle)."""
    source = context.model.source
    if source is None:
        return _ROW_WORDS
    return frozenset(word for word in _ROW_WORDS if word in source)


def _line_of(module: cst.Module, statement: cst.ImportFrom) -> cst.SimpleStatementLine | None:
    for line in module.body:
        if isinstance(line, cst.SimpleStatementLine) and any(s is statement for s in line.body):
            return line
    return None


def _uses_of_names(
    model: ModuleModel, module: cst.Module, locals_: frozenset[str]
) -> dict[str, list[cst.Name] | None]:
    """For each of `locals_`, every Name that refers to its module-level import, in one walk
    of the module; None for a name some use of which cannot be rewritten (a `global`, a
    `del`, a module-level assignment to it)."""
    wanted = {name: model.lookup(name, model.module_scope) for name in locals_}
    found: dict[str, list[cst.Name] | None] = {
        name: [] if isinstance(value, Dotted) else None for name, value in wanted.items()
    }
    path: list[cst.CSTNode] = []

    def walk(node: cst.CSTNode) -> None:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            return
        if isinstance(node, (cst.Global, cst.Nonlocal, cst.Del)):
            for name in locals_ & names_in(node):
                found[name] = None
            return
        if isinstance(node, cst.Name):
            uses = found.get(node.value)
            if uses is None:
                return
            parent = path[-1] if path else None
            if isinstance(parent, cst.Attribute) and parent.attr is node:
                return
            if isinstance(parent, cst.Arg) and parent.keyword is node:
                return
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Param)):
                return
            if model.lookup(node.value, model.scope_at([*path, node])) == wanted[node.value]:
                uses.append(node)
            return
        path.append(node)
        for child in child_nodes(node):
            walk(child)
        path.pop()

    try:
        walk(module)
    except RecursionError:  # absurdly deep code: no fix rather than a partial rename
        return dict.fromkeys(locals_)
    return found
