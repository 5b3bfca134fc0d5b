"""The Prefect model of one module: what its names and expressions mean.

Rules never look at import text; they ask `ModuleModel.evaluate(expr, scope)` and get a
`Flow`, a `Task`, a canonical `Dotted` name, ... or `None` when it cannot be known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import libcst as cst

from prefect_lint.model import api
from prefect_lint.model.scopes import (
    AssignBinding,
    Binding,
    DefBinding,
    ImportBinding,
    Scope,
    ScopeNode,
    build_scope,
)
from prefect_lint.model.values import (
    BoundMethod,
    Decorator,
    Dotted,
    Flow,
    Function,
    Runner,
    Task,
    Value,
)

_RUNNER_CLASSES = frozenset(
    {api.THREAD_POOL_RUNNER, api.PROCESS_POOL_RUNNER, api.DASK_RUNNER, api.RAY_RUNNER}
)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def positional_args(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


class ProjectNames(Protocol):
    """What a module model asks of the project index (`model.project.ProjectIndex`, which
    builds module models itself and so sits above this module)."""

    @property
    def decorators(self) -> api.UserDecorators: ...

    def resolve(self, dotted: str, importer: str) -> Value | None:
        """What `dotted`, imported by the file `importer`, is if a project module defines it."""
        ...


class ModuleModel:
    def __init__(
        self,
        module: cst.Module,
        path: str | None = None,
        index: ProjectNames | None = None,
        decorators: api.UserDecorators | None = None,
    ) -> None:
        self.module = module
        self.path = path
        # Resolves names imported from other modules of the project (None: this file only).
        self.index = index
        if decorators is None:
            decorators = index.decorators if index is not None else api.NO_USER_DECORATORS
        self.decorators = decorators
        self.module_scope = build_scope(module, None)
        self._scopes: dict[int, Scope] = {id(module): self.module_scope}
        self._in_progress: set[tuple[int, str]] = set()
        self._cache: dict[tuple[int, str], Value | None] = {}
        self._walrus_names: frozenset[str] | None = None
        # The module's text when the checker has it: no `:=` in it spares a whole-tree walk.
        self.source: str | None = None
        # For `reference_to`: module-level names by the canonical name they hold, and answers
        # per (scope, dotted name) with the scope kept alive so its id stays unique.
        self._names_by_dotted: dict[str, list[str]] | None = None
        self._references: dict[tuple[int, str], tuple[Scope, tuple[str, bool] | None]] = {}

    @property
    def walrus_names(self) -> frozenset[str]:
        """Names bound by `:=` anywhere (scopes do not see them); computed on first use."""
        if self._walrus_names is None and self.source is not None and ":=" not in self.source:
            self._walrus_names = frozenset()
        if self._walrus_names is None:
            from prefect_lint.engine.walker import Walker

            found: set[str] = set()

            class _Collect:
                def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
                    if isinstance(node.target, cst.Name):
                        found.add(node.target.value)

            Walker([_Collect()]).walk_iterative(self.module)
            self._walrus_names = frozenset(found)
        return self._walrus_names

    # -- scopes ---------------------------------------------------------------------------

    def scope_of(self, node: ScopeNode, parent: Scope) -> Scope:
        scope = self._scopes.get(id(node))
        if scope is None:
            scope = build_scope(node, parent)
            self._scopes[id(node)] = scope
        return scope

    def scope_at(self, path: Sequence[cst.CSTNode]) -> Scope:
        """The scope in which `path[-1]` is evaluated; `path` runs from the module down."""
        scope = self.module_scope
        for index in range(len(path) - 1):
            node, child = path[index], path[index + 1]
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                # Decorators, defaults and annotations belong to the enclosing scope.
                if child is node.body:
                    scope = self.scope_of(node, scope)
            elif isinstance(node, _COMPREHENSIONS) and not self._is_first_iterable(
                node, child, path, index
            ):
                scope = self.scope_of(node, scope)
        return scope

    @staticmethod
    def _is_first_iterable(
        comp: cst.CSTNode, child: cst.CSTNode, path: Sequence[cst.CSTNode], index: int
    ) -> bool:
        # The outermost iterable of a comprehension is evaluated in the enclosing scope.
        for_in = getattr(comp, "for_in", None)
        if not isinstance(for_in, cst.CompFor) or child is not for_in:
            return False
        grandchild = path[index + 2] if index + 2 < len(path) else None
        return grandchild is for_in.iter

    # -- names ----------------------------------------------------------------------------

    def lookup(self, name: str, scope: Scope) -> Value | None:
        start = scope
        current: Scope | None = scope
        while current is not None:
            if current is not start and current.is_class:
                current = current.parent
                continue
            if name in current.global_names:
                current = self.module_scope
                start = current
                continue
            if name in current.bindings:
                return self._value_of_bindings(name, current)
            if current.has_star_import:
                return None
            current = current.parent
        return None

    def is_bound(self, name: str, scope: Scope) -> bool:
        """True if `name` may refer to something other than a builtin at this point."""
        current: Scope | None = scope
        while current is not None:
            if (
                name in current.bindings
                or name in current.global_names
                or name in current.nonlocal_names
                or current.has_star_import
            ):
                return True
            current = current.parent
        return False

    def _value_of_bindings(self, name: str, scope: Scope) -> Value | None:
        key = (id(scope.node), name)
        if key in self._cache:
            return self._cache[key]
        if key in self._in_progress:
            return None
        self._in_progress.add(key)
        try:
            value = self._evaluate_bindings(scope.bindings[name], scope)
        finally:
            self._in_progress.discard(key)
        self._cache[key] = value
        return value

    def _evaluate_bindings(self, bindings: list[Binding], scope: Scope) -> Value | None:
        imports = [b for b in bindings if isinstance(b, ImportBinding)]
        if len(imports) == len(bindings):
            names = {b.dotted for b in imports}
            return self._imported(names.pop()) if len(names) == 1 else None
        if len(bindings) != 1:
            return None
        binding = bindings[0]
        if isinstance(binding, DefBinding):
            return self.value_of_def(binding.node, scope)
        if isinstance(binding, AssignBinding):
            return self.evaluate(binding.value, scope)
        return None

    # -- expressions ----------------------------------------------------------------------

    def evaluate(self, expr: cst.BaseExpression, scope: Scope) -> Value | None:
        if isinstance(expr, cst.Name):
            return self.lookup(expr.value, scope)
        if isinstance(expr, cst.Attribute):
            base = self.evaluate(expr.value, scope)
            if isinstance(base, Dotted):
                return self._imported(api.canonical(f"{base.name}.{expr.attr.value}"))
            if isinstance(base, (Flow, Task)):
                return BoundMethod(base, expr.attr.value)
            return None
        if isinstance(expr, cst.Call):
            return self._evaluate_call(expr, scope)
        return None

    def _imported(self, dotted: str) -> Value:
        """An imported name: what the project module defining it says, else just its name."""
        if self.decorators.kind_of(dotted) is not None:
            return Dotted(dotted)  # configured wrappers mean what the configuration says
        if self.index is not None and self.path is not None and not api.is_prefect_name(dotted):
            value = self.index.resolve(dotted, self.path)
            if value is not None:
                return value
        return Dotted(dotted)

    def imported_names(self) -> list[str]:
        """Dotted names this module imports at module level, apart from Prefect's own."""
        return [
            binding.dotted
            for bindings in self.module_scope.bindings.values()
            for binding in bindings
            if isinstance(binding, ImportBinding) and not api.is_prefect_name(binding.dotted)
        ]

    def value_of_def(self, node: cst.FunctionDef, scope: Scope) -> Value | None:
        """A function definition after its decorators (innermost first) are applied."""
        if not node.decorators:
            wrapper = self._wrapper_decorator(node, scope)
            if wrapper is not None:
                return wrapper
        value: Value | None = Function(node)
        for decorator in reversed(node.decorators):
            value = self.apply_decorator(self.evaluate(decorator.decorator, scope), value, scope)
            if value is None:
                return None
        return value

    def apply_decorator(
        self, decorator: Value | None, target: Value | None, scope: Scope
    ) -> Value | None:
        call: cst.Call | None = None
        kind: str | None = None
        if isinstance(decorator, Decorator):
            kind, call = decorator.kind, decorator.call
        elif isinstance(decorator, Dotted):
            kind = self.decorators.kind_of(decorator.name)
        if kind == "flow":
            return self._make_flow(target, call, scope)
        if kind == "task":
            return self._make_task(target, call)
        if kind == "infrastructure" and isinstance(target, Flow):
            return dataclasses.replace(target, infrastructure_bound=True)
        return None

    def _wrapper_decorator(self, node: cst.FunctionDef, scope: Scope) -> Decorator | None:
        """An in-project wrapper such as `def tracked_task(fn): return task(fn, retries=2)`.

        Only the plain shape counts: the first parameter is passed, unchanged, to `task` or
        `flow` (directly or through `task(...)(fn)`) in the function's one and final `return`.
        Anything more elaborate is named in `extend-task-decorators` by its user.
        """
        if node.asynchronous is not None or not node.params.params:
            return None
        parameter = node.params.params[0].name.value
        body = node.body
        # Each line as its small statements: `def w(fn): return task(fn)` is one line too.
        lines: list[Sequence[cst.BaseSmallStatement]] = []
        if isinstance(body, cst.SimpleStatementSuite):
            lines.append(body.body)
        else:
            for statement in body.body:
                if not isinstance(statement, cst.SimpleStatementLine):
                    return None  # a compound statement might return something else
                lines.append(statement.body)
        if not lines or len(lines[-1]) != 1:
            return None
        last = lines[-1][0]
        if not isinstance(last, cst.Return) or not isinstance(last.value, cst.Call):
            return None
        if any(isinstance(small, cst.Return) for line in lines[:-1] for small in line):
            return None
        body_scope = self.scope_of(node, scope)
        if len(body_scope.bindings.get(parameter, ())) != 1:
            return None  # reassigned before the return
        call = last.value
        inner: cst.BaseExpression = call.func
        arguments = positional_args(call)
        if isinstance(inner, cst.Call):
            # `task(retries=2)(fn)`: the factory call carries the options.
            if len(arguments) != 1 or positional_args(inner):
                return None
            options, inner = inner, inner.func
        else:
            options = call
        if not arguments or not _is_name(arguments[0].value, parameter):
            return None
        factory = self.evaluate(inner, body_scope)
        if not isinstance(factory, Dotted):
            return None
        kind = self.decorators.kind_of(factory.name)
        return Decorator(kind, options) if kind is not None else None

    def _make_flow(self, target: Value | None, call: cst.Call | None, scope: Scope) -> Flow:
        node = target.node if isinstance(target, (Function, Flow, Task)) else None
        is_async = _is_async(target)
        runner = self._runner_argument(call, scope) if call is not None else None
        return Flow(
            name=_name_of(target),
            node=node,
            is_async=is_async,
            task_runner=runner,
        )

    @staticmethod
    def _make_task(target: Value | None, call: cst.Call | None = None) -> Task:
        node = target.node if isinstance(target, (Function, Flow, Task)) else None
        return Task(
            name=_name_of(target),
            node=node,
            is_async=_is_async(target),
            default_cache=_default_cache(call),
        )

    def _runner_argument(self, call: cst.Call, scope: Scope) -> Runner | None:
        arg = keyword_arg(call, "task_runner")
        if arg is None:
            return None
        value = self.evaluate(arg.value, scope)
        if isinstance(value, Runner):
            return value
        if isinstance(value, Dotted) and value.name in _RUNNER_CLASSES:
            return Runner(value.name)
        return Runner(None)

    def _evaluate_call(self, call: cst.Call, scope: Scope) -> Value | None:
        func = self.evaluate(call.func, scope)
        positional = positional_args(call)
        if isinstance(func, Dotted):
            name = func.name
            kind = self.decorators.kind_of(name)
            if kind is not None:
                if positional:
                    target = self.evaluate(positional[0].value, scope)
                    if kind == "flow":
                        return self._make_flow(target, call, scope)
                    return self._make_task(target, call)
                return Decorator(kind, call)
            if api.is_infrastructure_decorator(name):
                return Decorator("infrastructure", call)
            if name == api.BIND_FLOW_TO_INFRASTRUCTURE and positional:
                target = self.evaluate(positional[0].value, scope)
                if isinstance(target, Flow):
                    return dataclasses.replace(target, infrastructure_bound=True)
                return None
            if name in _RUNNER_CLASSES:
                return Runner(name, call)
            return None
        if isinstance(func, Decorator) and positional:
            return self.apply_decorator(func, self.evaluate(positional[0].value, scope), scope)
        if isinstance(func, BoundMethod) and func.name == "with_options":
            owner = func.owner
            if isinstance(owner, Flow) and keyword_arg(call, "task_runner") is not None:
                return dataclasses.replace(owner, task_runner=self._runner_argument(call, scope))
            if isinstance(owner, Task) and _default_cache(call) is not True:
                return dataclasses.replace(owner, default_cache=_default_cache(call))
            return owner
        return None


# Keywords that replace the default cache policy (tasks.py: `Task.__init__`).
_CACHE_KEYWORDS = ("cache_policy", "cache_key_fn", "persist_result", "result_storage_key")


def _default_cache(call: cst.Call | None) -> bool | None:
    """Whether a task made with `call`'s options hashes its inputs with the default policy."""
    if call is None:
        return True
    if any(arg.star == "**" for arg in call.args):
        return None
    return not any(keyword_arg(call, keyword) for keyword in _CACHE_KEYWORDS)


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _name_of(value: Value | None) -> str | None:
    if isinstance(value, Function):
        return value.node.name.value
    if isinstance(value, (Flow, Task)):
        return value.name
    return None


def _is_async(value: Value | None) -> bool | None:
    if isinstance(value, Function):
        return value.is_async
    if isinstance(value, (Flow, Task)):
        return value.is_async
    return None


def reference_to(model: ModuleModel, dotted: str, scope: Scope) -> tuple[str, bool] | None:
    """How code in `scope` can name `dotted` (e.g. `prefect.task`).

    Returns (expression text, needs_import). An existing import is reused (`task`, an alias
    `t`, or `prefect.task` through `import prefect`); otherwise the plain name is proposed
    with an import, unless that name already means something else here (then None).
    """
    key = (id(scope), dotted)
    known = model._references.get(key)
    if known is None:
        known = (scope, _reference_to(model, dotted, scope))
        model._references[key] = known
    return known[1]


def _reference_to(model: ModuleModel, dotted: str, scope: Scope) -> tuple[str, bool] | None:
    module_part, _, attr = dotted.rpartition(".")
    for name in _reference_candidates(model, dotted, module_part, scope):
        if name in model.walrus_names:
            continue  # may be rebound where scopes cannot see
        value = model.lookup(name, scope)
        if value == Dotted(dotted):
            return name, False
        if value == Dotted(module_part):
            return f"{name}.{attr}", False
    if model.is_bound(attr, scope) or attr in model.walrus_names:
        return None
    return attr, True


def _reference_candidates(
    model: ModuleModel, dotted: str, module_part: str, scope: Scope
) -> list[str]:
    """The module-level names that can mean `dotted` or `module_part` in `scope`, in the order
    they are preferred (the plain attribute name first, then alphabetical).

    A name means in `scope` what it means at module level unless a scope on the way binds it
    again, so only the module-level holders of the two names and the names rebound on the way
    need a lookup: not every module-level name once per call (quadratic in many-flow files).
    """
    attr = dotted.rpartition(".")[2]
    module_names = model.module_scope.bindings
    chain: list[Scope] = []
    current: Scope | None = scope
    while current is not None and current is not model.module_scope:
        if current.has_star_import:
            return sorted(module_names, key=lambda n: (n != attr, n))
        chain.append(current)
        current = current.parent
    if model._names_by_dotted is None:
        model._names_by_dotted = {}
        for name in module_names:
            value = model.lookup(name, model.module_scope)
            if isinstance(value, Dotted):
                model._names_by_dotted.setdefault(value.name, []).append(name)
    found = set(model._names_by_dotted.get(dotted, ()))
    found.update(model._names_by_dotted.get(module_part, ()))
    for inner in chain:
        found.update(name for name in inner.bindings if name in module_names)
    return sorted(found, key=lambda n: (n != attr, n))
