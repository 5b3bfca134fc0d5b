"""Whether a rule can report on a file, decided from Python's `ast` before LibCST parses it.

Each rule declares its `trigger` (`Rule.trigger`, a `Trigger`): a cheap necessary condition for
it to report, read from one `ast` parse and the names the file's imports and alias chains can
evaluate to (`model.relevance.FileFacts`). A trigger may answer "maybe" for a file that ends up
silent; it never answers "no" for a file the rule reports on. The checker parses a file with
LibCST only if some enabled rule's trigger says "maybe", and runs only those rules on it.

What the model gets from other modules of the project (a task, a flow, a runner, a re-exported
Prefect name) is not in the file's own names: a trigger that depends on such a value asks
`Precheck.project_values()` (the project index: do the file's non-Prefect names lead to a
project module that carries Prefect values?), which is asked at most once per file and only
when the file's own names did not already decide.

The triggers shared by several rules live here; a rule whose trigger reads its own tables (the
migration rows, run-context names, ...) builds it in its own module from these helpers.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property
from typing import cast

from prefect_lint.model import api
from prefect_lint.model.api import UserDecorators
from prefect_lint.model.futures_precheck import (
    FileIndex,
    Names,
    index_file,
    may_find_futures,
)
from prefect_lint.model.relevance import FileFacts, is_prefect_family
from prefect_lint.python_ast import add_children, child_nodes

_PROCESS_RUNNERS = frozenset({api.PROCESS_POOL_RUNNER, api.DASK_RUNNER, api.RAY_RUNNER})


class Precheck:
    """What the triggers read about one file; everything past the facts is computed on first
    use, so a file decided by its names costs no further walk."""

    def __init__(
        self,
        tree: ast.Module,
        facts: FileFacts,
        decorators: UserDecorators,
        project: Callable[[], bool] = lambda: False,
    ) -> None:
        self.tree = tree
        self.facts = facts
        self.decorators = decorators
        self._project = project
        self._project_answer: bool | None = None

    def project_values(self) -> bool:
        """Whether names of this file may lead to project modules carrying Prefect values."""
        if self._project_answer is None:
            self._project_answer = self._project()
        return self._project_answer

    def named(self, wanted: Collection[str]) -> bool:
        """Whether an import or attribute chain of the file may evaluate to one of `wanted`."""
        names = self.facts.names
        if len(wanted) < len(names):
            return any(name in names for name in wanted)
        return any(name in wanted for name in names)

    def any_name(self, test: Callable[[str], bool]) -> bool:
        return any(test(name) for name in self.facts.names)

    @cached_property
    def index(self) -> FileIndex:
        """Bindings, calls, keywords and function bodies: one walk, on first need."""
        task_names = frozenset({api.TASK, *self.decorators.tasks})
        return index_file(self.tree, self.facts.bound, task_names, self.project_values)

    @property
    def names(self) -> Names:
        return self.index.names

    def calls(self) -> list[ast.Call]:
        return self.index.calls

    @property
    def keywords(self) -> set[str]:
        """The keyword argument names of every call in the file."""
        return self.index.keywords

    @cached_property
    def makes_flows(self) -> bool:
        """Whether a flow can come out of this file's own names: `prefect.flow` or a configured
        flow decorator is named (in-file wrappers call `flow` too)."""
        return api.FLOW in self.facts.names or self.named(self.decorators.flows)

    def flows_possible(self) -> bool:
        return self.makes_flows or self.project_values()

    @cached_property
    def futures_facts_possible(self) -> bool:
        return may_find_futures(self.index)


@dataclass(frozen=True)
class Trigger:
    """A rule's cheap necessary condition to report: `test(precheck)` is False only when the
    rule certainly reports nothing on the file. `condition` says what it checks (docs, tests).
    The checker asks every enabled rule's trigger; only the rules whose trigger says "maybe"
    run, and a file none says it for is never parsed by LibCST."""

    condition: str
    test: Callable[[Precheck], bool]

    def __call__(self, precheck: Precheck) -> bool:
        return self.test(precheck)


# -- the futures family --------------------------------------------------------------------


FUTURES_FACTS = Trigger(
    "the futures analysis may record a fact (model/futures_precheck.py proves the common "
    "shapes clean, whatever the names are)",
    lambda pre: pre.futures_facts_possible,
)


def _flow_submit(pre: Precheck) -> bool:
    """PFL101: a `.submit()` / `.map()` whose receiver may evaluate to a flow."""
    names = pre.names
    for call in pre.calls():
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("submit", "map")):
            continue
        receiver = func.value
        if isinstance(receiver, ast.Name):
            kinds = names.of(receiver.id)
            if kinds & {"def", "async_def", "assign"} and pre.flows_possible():
                return True
            if "import" in kinds and pre.project_values():
                return True
        elif isinstance(receiver, ast.Attribute):
            chain = names.chain(receiver)
            if chain is not None and names.outside(chain[0]) and pre.project_values():
                return True
        elif isinstance(receiver, ast.Call) and pre.flows_possible():
            return True
    return False


FLOW_SUBMIT = Trigger(
    "a `.submit()`/`.map()` on a name a decorator other than `@task` made, an assigned name or "
    "a call (with `flow` named or project values), or on a project module's attribute",
    _flow_submit,
)


def _may_be_flow(pre: Precheck, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Only a decorated def can be a flow (`ModuleModel.value_of_def`): its outermost
    decorator decides."""
    decorators = function.decorator_list
    flows = frozenset({api.FLOW, *pre.decorators.flows})
    return bool(decorators) and pre.names.may_make_flow(decorators[0], flows)


def _async_task_direct_call(pre: Precheck) -> bool:
    """PFL107: a decorated sync function calls something that may be an async task."""
    names = pre.names
    if not names.async_defs and not pre.project_values():
        return False
    for function, nodes in pre.index.functions:
        if not isinstance(function, ast.FunctionDef) or not _may_be_flow(pre, function):
            continue
        for inner in nodes:
            if not isinstance(inner, ast.Call):
                continue
            func = inner.func
            if isinstance(func, ast.Name):
                kinds = names.of(func.id)
                if kinds & {"async_task_def", "async_def", "assign"}:
                    return True
                if "import" in kinds and pre.project_values():
                    return True
            elif isinstance(func, ast.Attribute):
                root = func.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and names.outside(root.id) and pre.project_values():
                    return True
            else:
                return True
    return False


ASYNC_TASK_DIRECT_CALL = Trigger(
    "a decorated sync def calls a name bound by a decorated async def or an assignment (or "
    "a project value), with an async def in the file or project values",
    _async_task_direct_call,
)

_DEPLOYING = frozenset({"serve", "deploy", "to_deployment"})
_CHANGED_KEYWORDS = frozenset({"is_schedule_active", "schedule"})


def _changed_calls(pre: Precheck) -> bool:
    if pre.keywords & _CHANGED_KEYWORDS and any(
        isinstance(call.func, ast.Attribute)
        and call.func.attr in _DEPLOYING
        and any(keyword.arg in _CHANGED_KEYWORDS for keyword in call.keywords)
        for call in pre.calls()
    ):
        return True
    return pre.futures_facts_possible


CHANGED_CALLS = Trigger(
    "the futures analysis may record a Prefect 2 idiom, or `.serve`/`.deploy`/"
    "`.to_deployment` gets `is_schedule_active=` or `schedule=`",
    _changed_calls,
)

TASK_RUNNER_KEYWORD = Trigger(
    "a call passes `task_runner=` (a flow decorator or `.with_options`)",
    lambda pre: "task_runner" in pre.keywords,
)


# -- the process boundary --------------------------------------------------------------------


def process_runner_named(pre: Precheck) -> bool:
    """A process-based runner named here, or one that may come from a project module."""
    return pre.named(_PROCESS_RUNNERS) or pre.project_values()


PROCESS_FLOW_HERE = Trigger(
    "a `task_runner=` keyword and a process-based runner (ProcessPool, Dask, Ray) named here "
    "or from a project module",
    lambda pre: "task_runner" in pre.keywords and process_runner_named(pre),
)

PROCESS_FLOW_ANYWHERE = Trigger(
    "a `task_runner=` keyword and a process-based runner named here, or project values (a "
    "flow on such a runner imported from the project)",
    lambda pre: (
        ("task_runner" in pre.keywords and pre.named(_PROCESS_RUNNERS)) or pre.project_values()
    ),
)


def unpicklable_trigger(table: Collection[str]) -> Trigger:
    """PFL202: a call in a decorated def (a possible flow) is given a value built by a call
    the pickling table may know: directly, or through names assigned such a value."""
    callees = frozenset(table)

    def builds(pre: Precheck, call: ast.Call) -> bool | None:
        """True: `call` may build a table value; None: only if a project module re-exports
        a table callee; False: it cannot."""
        func = call.func
        if isinstance(func, ast.Name) and func.id == "open":
            return True  # `builtins.open` when unbound
        chain = pre.names.chain(func)
        if chain is None:
            return False
        if not callees.isdisjoint(chain[1]):
            return True
        return None if pre.names.outside(chain[0]) else False

    def test(pre: Precheck) -> bool:
        if not pre.flows_possible():
            return False
        made: set[int] = set()
        through_project: set[int] = set()
        for call in pre.calls():
            built = builds(pre, call)
            if built:
                made.add(id(call))
            elif built is None:
                through_project.add(id(call))
        if not made and not through_project:
            return False
        # Without a table call here, only a project module's re-export could make one: ask
        # the project (cached per file, and most triggers ask it) before walking the flows.
        if not made and not pre.project_values():
            return False
        flow = _FlowArguments(pre)
        if made and flow.carries(made):
            return True
        if not through_project or not flow.carries(made | through_project):
            return False
        return pre.project_values()

    return Trigger(
        "a flow may be made and a call in a decorated def gets a value built by `open(...)` "
        "or a callee of the pickling table, directly or through assigned names",
        test,
    )


def _refs(node: ast.AST) -> tuple[set[str], set[int]]:
    """The names read and the calls made in `node` (ids)."""
    names: set[str] = set()
    calls: set[int] = set()
    stack = [node]
    while stack:
        inner = stack.pop()
        kind = type(inner)
        if kind is ast.Name:
            names.add(cast(ast.Name, inner).id)
            continue
        if kind is ast.Call:
            calls.add(id(inner))
        add_children(inner, stack)
    return names, calls


def _stored(target: ast.AST) -> set[str]:
    """The names an assignment target binds (not the ones it reads: `self` in `self.x = v`)."""
    stored: set[str] = set()
    stack = [target]
    while stack:
        node = stack.pop()
        if type(node) is ast.Name:
            if type(node.ctx) is not ast.Load:
                stored.add(node.id)
            continue
        add_children(node, stack)
    return stored


class _FlowArguments:
    """What the calls in possible flows are given, and what each assignment passes on."""

    def __init__(self, pre: Precheck) -> None:
        self.names: set[str] = set()
        self.calls: set[int] = set()
        self.pre = pre
        # id(assigned value) -> the names and calls it reads, once read (`carries`).
        self._refs: dict[int, tuple[set[str], set[int]]] = {}
        # `fast = flow(etl).with_options(...)` makes a flow of a plain def too (`flows_of`).
        copies = any(
            isinstance(call.func, ast.Attribute) and call.func.attr == "with_options"
            for call in pre.calls()
        )
        # A def inside one already read adds nothing: its nodes were read with the outer one
        # (an outer def comes first in `functions`).
        read: set[int] = set()
        for function, _ in pre.index.functions:
            if id(function) in read or not (copies or _may_be_flow(pre, function)):
                continue
            self._read(function, read)

    def _read(self, function: ast.FunctionDef | ast.AsyncFunctionDef, read: set[int]) -> None:
        """The names and calls inside an argument of a call anywhere in `function` (its
        header, nested defs, classes and lambdas too), in one walk."""
        names, calls = self.names, self.calls
        # (node, whether it lies inside an argument of a call above it)
        stack: list[tuple[ast.AST, bool]] = [(function, False)]
        while stack:
            node, argument = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                if argument:
                    names.add(cast(ast.Name, node).id)
                continue
            if kind is ast.Call:
                call = cast(ast.Call, node)
                if argument:
                    calls.add(id(call))
                stack.append((call.func, argument))
                stack.extend((inner, True) for inner in call.args)
                stack.extend((inner, True) for inner in call.keywords)
                continue
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                read.add(id(node))
            stack.extend((child, argument) for child in child_nodes(node))

    @cached_property
    def binders(self) -> dict[str, list[ast.AST]]:
        """Per name, the values of the assignments (and `with ... as`) that bind it. Only
        names count: `self.client = ...` binds nothing `unpicklable_value` follows."""
        found: dict[str, list[ast.AST]] = {}
        for target, value in self.pre.index.assignments:
            for name in _stored(target):
                found.setdefault(name, []).append(value)
        return found

    def carries(self, made: set[int]) -> bool:
        """Whether an argument holds one of the `made` calls, directly or through names
        assigned (or entered by `with`) such a value: every name `unpicklable_value` may
        follow, and more.

        Searched backwards, from the names the arguments read to the values assigned to
        them, so only the assignments an argument can lead to are read: a name carries a
        made call when a value assigned to it holds one or reads a name that carries one."""
        if made & self.calls:
            return True
        binders, refs = self.binders, self._refs
        seen: set[str] = set()
        stack = list(self.names)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            for value in binders.get(name, ()):
                key = id(value)
                read = refs.get(key)
                if read is None:
                    read = refs[key] = _refs(value)
                names, calls = read
                if calls & made:
                    return True
                stack.extend(names)
        return False


def names_trigger(condition: str, wanted: Callable[[str], bool]) -> Trigger:
    """The rule reports only on a name that `wanted` accepts: named in the file, or reached
    through a project module (which may re-export it)."""
    return Trigger(
        condition + " (or project values)",
        lambda pre: pre.any_name(wanted) or pre.project_values(),
    )


def is_family(pre: Precheck, name: str) -> bool:
    return is_prefect_family(name, pre.decorators)


def calls_unbound(pre: Precheck, names: Collection[str]) -> bool:
    """A call of a plain name from `names` that the module itself does not bind (PFL105's
    "never imported"; a binding inside a function leaves the name unbound elsewhere)."""
    if not pre.facts.calls_bare_wait:
        return False
    module_names = _module_bindings(pre.tree)
    return any(
        isinstance(call.func, ast.Name)
        and call.func.id in names
        and call.func.id not in module_names
        for call in pre.calls()
    )


def _module_bindings(tree: ast.Module) -> set[str]:
    """Names the module's own statements bind (fewer than the model sees is safe here: a name
    missing only makes the trigger say "maybe")."""
    bound: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        statement = stack.pop()
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".", 1)[0] for a in statement.names)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(statement.name)
            continue
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                bound.update(_stored(target))
        for block in ("body", "orelse", "finalbody"):
            inner = getattr(statement, block, None)
            if isinstance(inner, list):
                stack.extend(s for s in inner if isinstance(s, ast.stmt))
        for handler in getattr(statement, "handlers", ()):
            stack.extend(handler.body)
    return bound
