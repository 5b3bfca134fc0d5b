"""Whether the futures analysis (`model/futures.py`) can find anything in a file, decided from
Python's `ast` before LibCST builds a tree.

The rules fed by that analysis (PFL102, PFL103, PFL104, PFL108, PFL109 and the futures part of
PFL302) report facts about `.submit()` / `.map()` futures and direct task calls. This module
proves, for the common shapes of flow code, that no such fact can arise; for anything else it
answers "maybe" and the file gets the full check. It never needs to know what a name *is*:
every `x.submit(...)` / `x.map(...)` is taken for a future (of a single run / a list), and
every call whose callee could be a task or flow is taken for a direct call. So the answer holds
whatever the project's other modules define.

Soundness, per function (the analyzer works on each function body alone, nested functions,
classes and lambdas apart; every function of the file is checked):

1. What a name may hold. A flow-insensitive fixpoint over the body gives each name the kinds
   of objects it may hold on any path, at its top and inside it (members at any depth):
   `S` a single future (a `.submit()`, or an element of a `.map()` list), `C` a `.map()` list,
   `D` a direct call's value, `K` a container. Only growing sets, every binding form merged:
   a superset of what the analyzer's environment holds at any point.
2. Misuse, judged on those supersets: an attribute of a possible single future that futures
   do not have, a subscript or iteration of one, `.wait()` whose value is used, `await` of a
   future, a future API (`.result()`, `.state`, ...) on a possible direct value, `wait()` /
   `as_completed()` given a possible single future or direct value: "maybe" (PFL108, PFL302,
   PFL104, PFL109). Without any of these, none of those facts can be recorded.
3. PFL103: a loop (or comprehension) whose own body holds both a `.submit()`/`.map()` and a
   wait (`.result()`, `.wait()`, `wait()`, `as_completed()`): "maybe".
4. PFL102, in decorated functions (only they can be flows): every `.submit()` / `.map()` must
   leave the pending set on every path before the function can exit. Accepted: the future used
   in the same statement by a call that resolves, escapes or consumes what it is given
   (`.result()`, `wait([...])`, another submit, an unknown call; not `print`, `len`, logging or
   a container method), or returned; or kept in a name (`h = t.submit()`, `h = [t.submit(x)
   for x in xs]`, `h.append(t.submit(x))`) that a later statement resolves (`h.result()`,
   `wait(h)`, `for f in as_completed(h)`, `[f.result() for f in h]`, `return h`), where every
   statement between (and the whole of any compound statement climbed out of, loops re-run)
   holds no `return` or `raise`, no `break`/`continue` leaving it, and never rebinds `h`. The
   analyzer's state at the resolving statement is a join that includes this path, where `h`
   still holds the future, so it leaves the pending set there.

Anything else (a bare `t.submit()` statement, a future in a branch's test, `try` around the
only wait, a name rebound before its wait) is "maybe". Simplicity over coverage: a shape not
proven here is checked in full, never missed.

What other modules of the project define matters in three places: an imported name may be a
task (a direct call), a module whose attribute `submit` is a task, or a re-export of `wait`,
`as_completed` or `unmapped`. The proof first runs as if the project carried no Prefect
values; only if it relied on that is the project index asked, and if it does carry them the
proof runs again taking every such name for the worst (`may_find_futures`).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

from prefect_lint.model import api
from prefect_lint.model.future_names import (
    FUTURE_API,
    LOGGING_METHODS,
    NEUTRAL_BUILTINS,
    TRANSPARENT_BUILTINS,
)
from prefect_lint.model.relevance import root_and_values
from prefect_lint.python_ast import add_children, child_nodes

_SUBMITS = frozenset({"submit", "map"})
_WAITS = frozenset({"wait", "as_completed"})
_PASS_THROUGH = frozenset({"unmapped", "allow_failure"})
_WAIT_VALUES = frozenset({api.FUTURES_WAIT, api.FUTURES_AS_COMPLETED, "prefect.wait"})
_WAIT_VALUES |= {"prefect.as_completed"}
_RESOLVING_METHODS = frozenset({"result", "wait"})
_LIST_ATTRS = frozenset(dir(list))

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_MAX_ROUNDS = 12

# Kinds of objects a name may hold (bits): a single future, a `.map()` list, a direct call's
# value, a container.
S, C, D, K = 1, 2, 4, 8
ALL = S | C | D | K


@dataclass(frozen=True)
class Held:
    """What an expression may evaluate to (`top`) and hold inside, at any depth (`inner`)."""

    top: int = 0
    inner: int = 0

    def join(self, other: Held) -> Held:
        return Held(self.top | other.top, self.inner | other.inner)

    def members(self) -> Held:
        """Iterating or subscripting it: what it holds (a `.map()` list holds its futures)."""
        return Held(self.inner, self.inner)

    def unpacked(self) -> Held:
        """`a, b = value`: a collection's members; a future or value stays itself."""
        return Held((self.top & (S | D)) | self.inner, self.inner)

    def everything(self) -> int:
        return self.top | self.inner


NOTHING = Held()
UNKNOWN = Held(ALL, ALL)


def _container(parts: Sequence[Held]) -> Held:
    inner = 0
    for part in parts:
        inner |= part.everything()
    return Held(K, inner)


@dataclass
class Names:
    """Each name of the file and how it is bound, over all scopes at once.

    `kinds`: "import" (a name from another module), "prefect" (imported from Prefect or a
    configured wrapper: never a task or flow value), "task_def" (a def whose outermost
    decorator is surely `prefect.task`), "def" (another decorated def), "async_task_def" and
    "async_def" (the same, async), "plain_def" (no decorator: a function, never a task or flow),
    "assign" (an assignment: may hold anything the model evaluates), "other" (parameters, loop
    targets, classes, `with`/`except` names: the model never evaluates them).
    `values`: the dotted names imports and alias chains give each name (`FileFacts.bound`).
    """

    values: Mapping[str, frozenset[str]]
    task_names: frozenset[str]
    # Whether names from outside Prefect may lead to project modules carrying Prefect values
    # (the project index). Asked only when an answer depends on it (see `assume_project`).
    project: Callable[[], bool] = lambda: True
    kinds: dict[str, set[str]] = field(default_factory=dict)
    async_defs: bool = False
    walrus: bool = False
    scope_statements: bool = False  # `global` / `nonlocal` anywhere

    def add(self, name: str, kind: str) -> None:
        self.kinds.setdefault(name, set()).add(kind)

    def of(self, name: str) -> set[str]:
        return self.kinds.get(name, set())

    # The futures pre-check first runs as if the project carried no Prefect values, noting
    # whether any answer depended on that (`project_asked`); only then is the index asked.
    assume_project: bool = False
    project_asked: bool = False

    def may_call_task(self, name: str) -> bool:
        """Whether calling `name` may call a task or flow (what the model may evaluate it to).
        An imported name is a task or flow only through a project module."""
        kinds = self.of(name) - {"prefect", "plain_def", "other"}
        if kinds == {"import"}:
            self.project_asked = True
            return self.assume_project
        return bool(kinds)

    def outside(self, name: str) -> bool:
        """Whether `name` may hold a module or object imported from outside Prefect, whose
        attributes the project index may resolve to tasks, flows or re-exported names."""
        return any(not api.is_prefect_name(value) for value in self.values.get(name, ()))

    def is_module(self, name: str) -> bool:
        """`outside`, under the current assumption about the project."""
        if not self.outside(name):
            return False
        self.project_asked = True
        return self.assume_project

    @cached_property
    def static_wait_names(self) -> frozenset[str]:
        """The names `waits` accepts whatever the project holds."""
        return frozenset(
            {*_WAITS, *(name for name, values in self.values.items() if values & _WAIT_VALUES)}
        )

    @cached_property
    def outside_names(self) -> frozenset[str]:
        return frozenset(name for name in self.values if self.outside(name))

    def waits(self, name: str) -> bool:
        """May be `wait` / `as_completed` (a project module may re-export them)."""
        values = self.values.get(name, frozenset())
        return name in _WAITS or bool(values & _WAIT_VALUES) or self.is_module(name)

    def completes(self, name: str) -> bool:
        """May be `as_completed` (which, unlike `wait`, gives its futures back)."""
        values = self.values.get(name, frozenset())
        if name == "as_completed" or self.is_module(name):
            return True
        return any(v.endswith("as_completed") for v in values)

    def passes_through(self, name: str) -> bool:
        """May be `unmapped` / `allow_failure`, which hand their argument back."""
        return (
            name in _PASS_THROUGH
            or any(v.rpartition(".")[2] in _PASS_THROUGH for v in self.values.get(name, ()))
            or self.is_module(name)
        )

    def chain(self, expr: ast.expr) -> tuple[str, set[str]] | None:
        """The root name of `name.attr...` (or of a call of it) and the dotted names the
        chain may evaluate to through imports and aliases; None for other expressions."""
        if isinstance(expr, ast.Call):
            expr = expr.func
        return root_and_values(expr, self.values)

    def surely_task(self, expr: ast.expr) -> bool:
        """A decorator that certainly makes a task: `task`, `task(...)`, `prefect.task`."""
        chain = self.chain(expr)
        if chain is None or self.of(chain[0]) - {"prefect"}:
            return False
        return bool(chain[1]) and chain[1] <= self.task_names

    def may_make_flow(self, expr: ast.expr, flow_names: frozenset[str]) -> bool:
        """Whether a decorator may make a flow: a name bound by anything but imports (an
        in-file wrapper), a chain that may be `flow`, a configured flow decorator or an
        infrastructure decorator, or a name from outside Prefect when the project carries
        Prefect values (a wrapper defined there)."""
        chain = self.chain(expr)
        if chain is None:
            return True
        root, values = chain
        if not self.of(root):
            return False  # bound nowhere (a builtin such as `property`): the model knows nothing
        if self.of(root) - {"prefect", "import"} or not values:
            return True
        if any(v in flow_names or api.is_infrastructure_decorator(v) for v in values):
            return True
        return "import" in self.of(root) and self.project()


@dataclass
class FileIndex:
    """One walk over a file's `ast`: its bindings, calls, keywords and, per function, the
    nodes of its own body (nested functions, classes and lambdas apart, as the analyzer sees
    a body; the nested statement itself is kept, it binds a name)."""

    names: Names
    calls: list[ast.Call] = field(default_factory=list)
    keywords: set[str] = field(default_factory=set)
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[ast.AST]]] = field(
        default_factory=list
    )
    # (target, value) of every assignment, annotated assignment, `:=` and `with ... as`.
    assignments: list[tuple[ast.AST, ast.AST]] = field(default_factory=list)


def index_file(
    tree: ast.Module,
    values: Mapping[str, frozenset[str]],
    task_names: frozenset[str],
    project: Callable[[], bool] = lambda: True,
) -> FileIndex:
    """The file's `FileIndex` (`values`: `FileFacts.bound`; `task_names`: what makes a task)."""
    names = Names(values, task_names, project)
    index = FileIndex(names)
    calls, keywords, assignments = index.calls, index.keywords, index.assignments
    # Each piece of work: nodes to walk, and the own-node list of the function whose body
    # holds them (None: module level, class bodies, lambdas, a def's decorators and defaults).
    work: list[tuple[list[ast.AST], list[ast.AST] | None]] = [([tree], None)]
    while work:
        stack, own = work.pop()
        while stack:
            node = stack.pop()
            if own is not None:
                own.append(node)
            kind = type(node)
            if kind is ast.Name:
                name_node = cast(ast.Name, node)  # `type() is` is cheaper than isinstance here
                if type(name_node.ctx) is not ast.Load:
                    names.add(name_node.id, "other")
                continue
            if kind is ast.Constant:
                continue  # a leaf, and a common one
            if kind is ast.Call:
                call = cast(ast.Call, node)
                calls.append(call)
                for keyword in call.keywords:
                    if keyword.arg:
                        keywords.add(keyword.arg)
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                function = cast(ast.FunctionDef | ast.AsyncFunctionDef, node)
                _bind_function(names, function)
                body: list[ast.AST] = []
                index.functions.append((function, body))
                # Decorators, defaults and annotations run where the def stands, and the
                # analyzer never evaluates them: they belong to no body.
                work.append((_header(function), None))
                work.append((list(function.body), body))
                continue
            elif kind is ast.Lambda or kind is ast.ClassDef:
                if kind is ast.ClassDef:
                    names.add(cast(ast.ClassDef, node).name, "other")
                work.append((child_nodes(node), None))
                continue
            else:
                binder = _BINDERS.get(kind)
                if binder is not None:
                    binder(names, node, assignments)
            add_children(node, stack)
    return index


def _header(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """What a def evaluates where it stands: decorators, defaults, annotations."""
    parts: list[ast.AST] = [*function.decorator_list, function.args]
    if function.returns is not None:
        parts.append(function.returns)
    return parts


def _bind_function(names: Names, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    if not node.decorator_list:
        kind = "plain_def"
    else:
        kind = "task_def" if names.surely_task(node.decorator_list[0]) else "def"
        if isinstance(node, ast.AsyncFunctionDef):
            kind = "async_" + kind
    names.async_defs = names.async_defs or isinstance(node, ast.AsyncFunctionDef)
    names.add(node.name, kind)


def _bind_assign(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    assign = cast(ast.Assign, node)
    for target in assign.targets:
        assignments.append((target, assign.value))
        if isinstance(target, ast.Name):
            names.add(target.id, "assign")


def _bind_annotated(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    assign = cast(ast.AnnAssign | ast.AugAssign, node)
    if isinstance(assign.target, ast.Name):
        names.add(assign.target.id, "assign")
    if isinstance(assign, ast.AnnAssign) and assign.value is not None:
        assignments.append((assign.target, assign.value))


def _bind_with(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    item = cast(ast.withitem, node)
    if item.optional_vars is not None:
        assignments.append((item.optional_vars, item.context_expr))


def _bind_arg(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    names.add(cast(ast.arg, node).arg, "other")


def _bind_import(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    for alias in cast(ast.Import | ast.ImportFrom, node).names:
        if alias.name == "*":
            continue
        local = alias.asname or alias.name.split(".", 1)[0]
        bound = names.values.get(local, frozenset())
        prefect = bool(bound) and all(api.is_prefect_name(v) for v in bound)
        names.add(local, "prefect" if prefect else "import")


def _bind_walrus(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    walrus = cast(ast.NamedExpr, node)
    names.walrus = True
    names.add(walrus.target.id, "assign")
    assignments.append((walrus.target, walrus.value))


def _bind_named(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    """`except E as name`, `case Point() as name`, `case [*rest]`."""
    name = getattr(node, "name", None)
    if name:
        names.add(name, "other")


def _bind_rest(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    rest = cast(ast.MatchMapping, node).rest
    if rest:
        names.add(rest, "other")


def _bind_scope(names: Names, node: ast.AST, assignments: _Assignments) -> None:
    names.scope_statements = True


_Assignments = list[tuple[ast.AST, ast.AST]]
_BINDERS: dict[type, Callable[[Names, ast.AST, _Assignments], None]] = {
    ast.Assign: _bind_assign,
    ast.AnnAssign: _bind_annotated,
    ast.AugAssign: _bind_annotated,
    ast.withitem: _bind_with,
    ast.arg: _bind_arg,
    ast.Import: _bind_import,
    ast.ImportFrom: _bind_import,
    ast.NamedExpr: _bind_walrus,
    ast.ExceptHandler: _bind_named,
    ast.MatchAs: _bind_named,
    ast.MatchStar: _bind_named,
    ast.MatchMapping: _bind_rest,
    ast.Global: _bind_scope,
    ast.Nonlocal: _bind_scope,
}


class Unproven(Exception):
    """A shape the pre-check does not prove clean."""


def may_find_futures(index: FileIndex) -> bool:
    """Whether the futures analysis may record a fact that a rule reports, in any function of
    the file (False: proven that it cannot).

    First as if no project module carried Prefect values; if that proof used the assumption,
    the project index decides whether it holds, and if not the proof is redone taking every
    imported name for the worst (each step only grows with `assume_project`, so a first
    "maybe" needs no second run)."""
    names = index.names
    names.assume_project, names.project_asked = False, False
    if _may_find_futures(index):
        return True
    if not names.project_asked or not names.project():
        return False
    names.assume_project = True
    try:
        return _may_find_futures(index)
    finally:
        names.assume_project = False


def _may_find_futures(index: FileIndex) -> bool:
    names = index.names
    try:
        for function, nodes in index.functions:
            if not _mentions_futures_in(nodes, names):
                continue  # no future, no wait, no future API: nothing to record
            _Function(function, nodes, names).check()
    except (Unproven, RecursionError):
        return True
    return False


class _Function:
    def __init__(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        nodes: list[ast.AST],
        names: Names,
    ) -> None:
        self.node = node
        self.names = names
        self.nodes = nodes
        self.env: dict[str, Held] = {}
        self.changed = False
        # While a binding node is evaluated: the names it reads from `env`.
        self.reads: set[str] | None = None
        # name -> the step (evaluation number) that last widened it.
        self.widened: dict[str, int] = {}
        self.step = 0

    def check(self) -> None:
        self.bind_rounds()
        self.misuse()
        self.serial_waits()
        decorators = self.node.decorator_list
        if decorators and not self.names.surely_task(decorators[0]):
            _Pending(self).check()

    def bind_rounds(self) -> None:
        """What each name may hold: the binding nodes evaluated in rounds until a round
        widens nothing (Unproven after `_MAX_ROUNDS`)."""
        binding = [node for node in self.nodes if _may_bind(node)]
        # Per binding node: the names it read and the step it was evaluated at. A node whose
        # names were not widened since gives what it gave then, which changes nothing: it is
        # not evaluated again (the rounds and their outcome are those of evaluating all).
        last: list[tuple[set[str], int] | None] = [None] * len(binding)
        widened = self.widened
        for _ in range(_MAX_ROUNDS):
            self.changed = False
            for position, node in enumerate(binding):
                before = last[position]
                if before is not None:
                    read, step = before
                    if all(widened.get(name, -1) < step for name in read):
                        continue
                self.step += 1
                self.reads = set()
                self.bind_node(node)
                last[position] = (self.reads, self.step)
            self.reads = None
            if not self.changed:
                return
        raise Unproven

    # -- what names may hold --------------------------------------------------------------

    def widen(self, name: str, held: Held) -> None:
        old = self.env.get(name, NOTHING)
        new = old.join(held)
        if new != old:
            self.env[name] = new
            self.changed = True
            self.widened[name] = self.step

    def bind(self, target: ast.expr, held: Held) -> None:
        if isinstance(target, ast.Name):
            self.widen(target.id, held)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, held.unpacked())
        elif isinstance(target, ast.Starred):
            self.bind(target.value, held.unpacked())
        elif isinstance(target, ast.Subscript):
            self.store_in(target.value, held.join(self.value(target.slice)))

    def store_in(self, receiver: ast.expr, held: Held) -> None:
        """`receiver` (a container) gets `held` as a member."""
        if isinstance(receiver, ast.Name) and held.everything():
            self.widen(receiver.id, Held(0, held.everything()))

    def bind_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            held = self.value(node.value)
            for target in node.targets:
                self.bind(target, held)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.bind(node.target, self.value(node.value))
        elif isinstance(node, ast.AugAssign):
            held = self.value(node.value)
            if isinstance(node.target, ast.Name):
                self.widen(node.target.id, Held(0, held.everything()))
            else:
                self.bind(node.target, held)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self.bind(node.target, self.value(node.iter).members())
        elif isinstance(node, ast.NamedExpr):
            self.bind(node.target, self.value(node.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and self.holds(node.func.value.id)
        ):
            # A method of one of our containers may store its arguments (`append`, ...).
            for argument in _arguments(node):
                self.store_in(node.func.value, self.value(argument))

    def holds(self, name: str) -> bool:
        """Whether `name` holds something yet (a read, as `value` makes)."""
        if self.reads is not None:
            self.reads.add(name)
        return name in self.env

    def value(self, expr: ast.expr | None) -> Held:
        # The commonest kinds first, by exact type (`ast.parse` makes no subclasses).
        kind = type(expr)
        if kind is ast.Name:
            name = cast(ast.Name, expr).id
            if self.reads is not None:
                self.reads.add(name)
            return self.env.get(name, NOTHING)
        if kind is ast.Call:
            return self.call_value(cast(ast.Call, expr))
        if kind in _VALUELESS or expr is None:
            return NOTHING
        if isinstance(expr, ast.Subscript):
            return self.value(expr.value).members()
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return _container([self.value(e) for e in expr.elts])
        if isinstance(expr, ast.Dict):
            return _container([self.value(e) for e in (*expr.keys, *expr.values)])
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return _container([self.value(expr.elt)])
        if isinstance(expr, ast.DictComp):
            return _container([self.value(expr.key), self.value(expr.value)])
        if isinstance(expr, ast.BoolOp):
            held = NOTHING
            for operand in expr.values:
                held = held.join(self.value(operand))
            return held
        if isinstance(expr, ast.IfExp):
            return self.value(expr.body).join(self.value(expr.orelse))
        if isinstance(expr, ast.BinOp):
            both = self.value(expr.left).join(self.value(expr.right))
            return _container([both]) if both.everything() else NOTHING
        if isinstance(expr, (ast.NamedExpr, ast.Starred, ast.Await)):
            return self.value(expr.value)
        return UNKNOWN

    def call_value(self, call: ast.Call) -> Held:
        func = call.func
        arguments = NOTHING
        for argument in _arguments(call):
            arguments = arguments.join(self.value(argument))
        if isinstance(func, ast.Attribute):
            module = D if self.names.is_module(_root(func.value) or "") else 0
            if func.attr == "submit":
                return Held(S | module)
            if func.attr == "map":
                return Held(C | module, S)
            if module or func.attr == "as_completed" or func.attr in _PASS_THROUGH:
                # `as_completed` gives a container of its argument's members (`wait` None).
                return Held(K | module | arguments.top, arguments.everything())
            receiver = self.value(func.value)
            if receiver.top and func.attr not in _RESOLVING_METHODS:
                # A container's or list's own method: itself, a view or copy, its members.
                own = Held((receiver.top & (C | K)) | receiver.inner, receiver.inner)
                return own.join(Held(module))
            return Held(module)
        if isinstance(func, ast.Name):
            name = func.id
            held = Held(D) if self.names.may_call_task(name) else NOTHING
            if name in TRANSPARENT_BUILTINS or self.names.completes(name):
                held = held.join(Held(K, arguments.everything()))
            if self.names.passes_through(name):
                held = held.join(arguments)
            return held
        # `t.with_options(...)(x)`: the callee may evaluate to a task.
        return Held(D)

    # -- misuse ---------------------------------------------------------------------------

    def misuse(self) -> None:
        discarded: set[int] = set()
        for node in self.nodes:
            if isinstance(node, ast.Expr):
                value = node.value.value if isinstance(node.value, ast.Await) else node.value
                discarded.add(id(value))
        for node in self.nodes:
            kind = type(node)
            if kind is ast.Call:
                self.misused_call(cast(ast.Call, node), discarded)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                held = self.value(node.value).top
                attr = node.attr
                if held & S and attr not in FUTURE_API:
                    raise Unproven  # PFL108 (and PFL302 `.get_state()`)
                if held & C and attr not in FUTURE_API and attr not in _LIST_ATTRS:
                    raise Unproven  # PFL108
                if held & D and attr in FUTURE_API:
                    raise Unproven  # PFL104
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                if self.value(node.value).top & S:
                    raise Unproven  # PFL108
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                if self.value(node.iter).top & S:
                    raise Unproven  # PFL108: iterating a future
            elif isinstance(node, ast.Await):
                inner = node.value
                if self.value(inner).top & (S | C):
                    raise Unproven  # PFL302
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in _RESOLVING_METHODS
                    and self.value(inner.func.value).top & (S | C)
                ):
                    raise Unproven  # PFL302

    def misused_call(self, call: ast.Call, discarded: set[int]) -> None:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "wait"
            and id(call) not in discarded
            and self.value(func.value).top & S
        ):
            raise Unproven  # PFL302: `.wait()` returns None on 3.x
        if self.is_wait_call(call) and call.args:
            first = self.value(call.args[0])
            if first.top & S or first.everything() & D:
                raise Unproven  # PFL109 / PFL104

    def is_wait_call(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Name):
            return self.names.waits(func.id)
        if not isinstance(func, ast.Attribute):
            return False
        return func.attr in _WAITS or self.names.is_module(_root(func.value) or "")

    def serial_waits(self) -> None:
        """PFL103: a loop whose body both submits and waits."""
        for node in self.nodes:
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                parts: list[ast.AST] = [*node.body]
                if isinstance(node, ast.While):
                    parts.append(node.test)
            elif isinstance(node, _COMPREHENSIONS):
                first, *rest = node.generators
                parts = [*first.ifs, *rest]
                parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            else:
                continue
            submits = waits = False
            for part in parts:
                for inner in _walk_own(part):
                    if isinstance(inner, ast.Call):
                        submits = submits or _is_submit(inner)
                        waits = waits or self.waits_on(inner)
            if submits and waits:
                raise Unproven

    def waits_on(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _RESOLVING_METHODS:
            return True
        return self.is_wait_call(call)

    # -- resolving calls --------------------------------------------------------------------

    def resolving_arguments(self, call: ast.Call) -> list[ast.expr]:
        """The arguments whose futures certainly leave the pending set when `call` runs: it
        resolves them (`wait`, a direct task call), escapes them (an unknown callee) or
        consumes them (another submit)."""
        func = call.func
        if isinstance(func, ast.Name):
            name = func.id
            if (
                name in NEUTRAL_BUILTINS
                or name in TRANSPARENT_BUILTINS
                or self.names.passes_through(name)
            ):
                return []
            waits = self.names.waits(name)
        elif isinstance(func, ast.Attribute):
            receiver = func.value
            if (
                func.attr in LOGGING_METHODS
                or func.attr in _PASS_THROUGH
                or isinstance(receiver, (ast.Constant, ast.JoinedStr))
                or self.names.is_module(_root(receiver) or "")
            ):
                return []  # formats, hands back, or may be a project's re-export of those
            if isinstance(receiver, ast.Name):
                if self.env.get(receiver.id, NOTHING).top:
                    return []  # a method of one of our objects (a container keeps them)
            elif not isinstance(receiver, ast.Attribute):
                return []
            waits = func.attr in _WAITS
        else:
            return []
        if waits:
            # `wait` / `as_completed` handle their first positional argument only.
            first = (
                [call.args[0]] if call.args and not isinstance(call.args[0], ast.Starred) else []
            )
            return first
        return _arguments(call, starred=False)


class _Pending:
    """PFL102: each future of a possible flow leaves the pending set before any exit."""

    def __init__(self, function: _Function) -> None:
        self.function = function
        self.parents: dict[int, ast.AST] = {}
        # statement id -> (its block, its index there, the compound statement owning the block)
        self.places: dict[int, tuple[list[ast.stmt], int, ast.AST]] = {}
        # Memos, so that many futures of one flow cost what one does: what each statement
        # holds (exits, rebindings), what each block resolves, what each statement resolves.
        self.summaries: dict[int, _Summary] = {}
        self.scans: dict[tuple[int, str], dict[int, str]] = {}
        self.resolved: dict[tuple[int, str], bool] = {}

    def check(self) -> None:
        self.index(self.function.node)
        parents = self.parents
        children: list[ast.AST] = []  # one list for every node's children
        for node in self.function.nodes:
            add_children(node, children)
            for child in children:
                parents[id(child)] = node
            children.clear()
        for node in self.function.nodes:
            if isinstance(node, ast.Call) and _is_submit(node):
                self.check_site(node)

    @cached_property
    def bindings(self) -> dict[str, list[ast.AST]]:
        """name -> the nodes of the function that bind it (few flows ever ask)."""
        found: dict[str, list[ast.AST]] = {}
        for node in self.function.nodes:
            for name in _bound_here(node):
                found.setdefault(name, []).append(node)
        return found

    def index(self, owner: ast.AST) -> None:
        stack = [owner]
        while stack:
            node = stack.pop()
            for block in _blocks(node):
                for position, statement in enumerate(block):
                    self.places[id(statement)] = (block, position, node)
                    if not isinstance(statement, _NESTED):
                        stack.append(statement)

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))

    def statement_of(self, node: ast.AST) -> ast.AST | None:
        current: ast.AST | None = node
        while current is not None and not isinstance(current, ast.stmt):
            current = self.parent(current)
        return current

    def check_site(self, call: ast.Call) -> None:
        statement = self.statement_of(call)
        if statement is None or isinstance(statement, _NESTED):
            raise Unproven
        if self.handled_at_once(call):
            return
        holder = self.holder(call, statement)
        if holder is None:
            raise Unproven  # e.g. a bare `t.submit()` statement
        self.resolved_later(statement, holder)

    def handled_at_once(self, call: ast.Call) -> bool:
        """`t.submit().result()`, `wait([t.submit()])`, `u.submit(t.submit())`, `return
        t.submit()`: the future leaves the pending set in the statement that makes it."""
        child: ast.AST = call
        parent = self.parent(call)
        if isinstance(parent, ast.Attribute) and parent.attr in _RESOLVING_METHODS:
            called = self.parent(parent)
            return isinstance(called, ast.Call) and called.func is parent
        # Up through literals and comprehensions holding it as an element.
        while isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict, *_COMPREHENSIONS)):
            if not _is_element(parent, child):
                return False
            child, parent = parent, self.parent(parent)
        if isinstance(parent, ast.keyword):
            child, parent = parent.value, self.parent(parent)
        if isinstance(parent, ast.Call) and parent.func is not child:
            return any(argument is child for argument in self.function.resolving_arguments(parent))
        return isinstance(parent, ast.Return)

    def holder(self, call: ast.Call, statement: ast.AST) -> str | None:
        """The name that keeps the future, when the statement is one of the plain shapes."""
        parent = self.parent(call)
        child: ast.AST = call
        if isinstance(parent, (ast.List, ast.Tuple, ast.Set, *_COMPREHENSIONS)):
            if isinstance(parent, ast.DictComp) or not _is_element(parent, child):
                return None
            child, parent = parent, self.parent(parent)
        if isinstance(parent, ast.Assign) and parent.value is child and len(parent.targets) == 1:
            target = parent.targets[0]
            return target.id if isinstance(target, ast.Name) else None
        if isinstance(parent, ast.AnnAssign) and parent.value is child:
            return parent.target.id if isinstance(parent.target, ast.Name) else None
        if child is not call or not isinstance(parent, ast.Call):
            return None
        func = parent.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("append", "add")
            and isinstance(func.value, ast.Name)
            and len(parent.args) == 1
            and not parent.keywords
            and isinstance(statement, ast.Expr)
            and statement.value is parent
        ):
            name = func.value.id
            # A direct value's methods keep nothing: the future would stay pending unseen.
            if self.function.env.get(name, NOTHING).top & (S | D):
                return None
            return name
        return None

    def resolved_later(self, statement: ast.AST, holder: str) -> None:
        """A later statement resolves `holder`, and nothing on the way leaves or rebinds it.

        From the creating statement, the rest of its block; if no statement there resolves
        the holder, the whole compound statement owning the block (a loop runs its body
        again) and the rest of the block around it; and so on up to the function's body."""
        made_here = self.summary(statement).bound
        current = statement
        while True:
            place = self.places.get(id(current))
            if place is None:
                raise Unproven
            block, position, owner = place
            found = self.first_after(block, position + 1, holder)
            if found == _RESOLVED:
                return
            if found == _LEAVES or owner is self.function.node:
                raise Unproven  # an exit or rebinding first, or the function's end
            summary = self.summary(owner)
            if summary.exits or summary.bound[holder] > made_here[holder]:
                raise Unproven
            current = owner

    def first_after(self, block: list[ast.stmt], position: int, holder: str) -> str:
        """What comes first in `block` from `position` on: a statement that resolves
        `holder`, one that may leave early or rebind it, or the block's end. Each answer is
        kept for every position the scan passed, so all the futures of one holder in a block
        cost one pass, and each other holder only the stretch up to its own answer."""
        known = self.scans.setdefault((id(block), holder), {})
        passed: list[int] = []
        found = _END
        while position < len(block):
            if position in known:
                found = known[position]
                break
            passed.append(position)
            later = block[position]
            if self.resolves(later, holder):
                found = _RESOLVED
                break
            summary = self.summary(later)
            if summary.exits or summary.bound[holder]:
                found = _LEAVES
                break
            position += 1
        for seen in passed:
            known[seen] = found
        return found

    def summary(self, statement: ast.AST) -> _Summary:
        known = self.summaries.get(id(statement))
        if known is None:
            known = _summarize(statement)
            self.summaries[id(statement)] = known
        return known

    def resolves(self, statement: ast.stmt, holder: str) -> bool:
        """Whether running `statement` certainly resolves (or escapes) what `holder` holds."""
        key = (id(statement), holder)
        known = self.resolved.get(key)
        if known is None:
            known = self.resolved[key] = self._resolves(statement, holder)
        return known

    def _resolves(self, statement: ast.stmt, holder: str) -> bool:
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            if self.resolves_in(statement.iter, holder):
                return True
            return self.each_resolved(statement, holder)
        if isinstance(statement, (ast.If, ast.While)):
            return self.resolves_in(statement.test, holder)
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            return any(self.resolves_in(item.context_expr, holder) for item in statement.items)
        if isinstance(statement, ast.Return):
            value = statement.value
            return value is not None and (
                _holds_name(value, holder) or self.resolves_in(value, holder)
            )
        if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign)):
            return self.resolves_in(statement.value, holder)
        return False

    def resolves_in(self, expr: ast.expr | None, holder: str) -> bool:
        if expr is None:
            return False
        for node in _evaluated(expr):
            if not isinstance(node, ast.Call):
                if isinstance(node, _COMPREHENSIONS) and self.comprehension_resolves(node, holder):
                    return True
                continue
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in _RESOLVING_METHODS
                and _is_name(func.value, holder)
            ):
                return True
            if any(
                _holds_name(argument, holder)
                for argument in self.function.resolving_arguments(node)
            ):
                return True
        return False

    def comprehension_resolves(self, node: ast.expr, holder: str) -> bool:
        """`[f.result() for f in futures]`: every element of a list is resolved."""
        assert isinstance(node, _COMPREHENSIONS)
        first = node.generators[0]
        if not (_is_name(first.iter, holder) and isinstance(first.target, ast.Name)):
            return False
        if not self.list_like(holder):
            return False
        element = first.target.id
        parts: list[ast.expr] = [*first.ifs]
        parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        return any(
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr in _RESOLVING_METHODS
            and _is_name(inner.func.value, element)
            for part in parts
            for inner in _evaluated(part)
        )

    def each_resolved(self, loop: ast.For | ast.AsyncFor, holder: str) -> bool:
        """`for f in futures: ... f.result() ...` on every path through the body, which never
        leaves early: each element is resolved when the loop ends."""
        if not (_is_name(loop.iter, holder) and isinstance(loop.target, ast.Name)):
            return False
        if not self.list_like(holder):
            return False
        element = loop.target.id
        for statement in loop.body:
            summary = self.summary(statement)
            if summary.exits or summary.bound[element]:
                return False
        return any(self.resolves(statement, element) for statement in loop.body)

    def list_like(self, name: str) -> bool:
        """Every binding of `name` in the function makes a list (iterating gives members)."""
        found = False
        for target in self.bindings.get(name, ()):
            node = self.parent(target)
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                return False
            if isinstance(node, ast.Assign) and node.targets != [target]:
                return False
            value = node.value
            list_value = isinstance(value, (ast.List, ast.ListComp)) or (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "map"
            )
            if not list_value:
                return False
            found = True
        return found


# The nodes `_Function.bind_node` reads: bindings, and calls of a method of a name (which may
# store their arguments in one of the function's containers).
_BINDING_KINDS = frozenset(
    {
        ast.Assign,
        ast.AnnAssign,
        ast.AugAssign,
        ast.For,
        ast.AsyncFor,
        ast.comprehension,
        ast.NamedExpr,
    }
)


def _may_bind(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        func = node.func
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
    return type(node) in _BINDING_KINDS


# What `_Function.value` holds to be no future, list, task value or container whatever is
# inside (an attribute is read through `misuse`, never taken for a future).
_VALUELESS = frozenset(
    {
        ast.Constant,
        ast.JoinedStr,
        ast.Compare,
        ast.UnaryOp,
        ast.Lambda,
        ast.Slice,
        ast.Yield,
        ast.YieldFrom,
        ast.Attribute,
        ast.FormattedValue,
    }
)
_RESOLVED, _LEAVES, _END = "resolved", "leaves", "end"
_BINDING_NODES = frozenset(
    {
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Import,
        ast.ImportFrom,
        ast.ExceptHandler,
        ast.MatchAs,
        ast.MatchStar,
        ast.MatchMapping,
    }
)


@dataclass(frozen=True)
class _Summary:
    """What running a statement may do besides going on to the next one: leave (`return`,
    `raise`, or a `break` / `continue` of a loop around it), and which names it binds."""

    exits: bool
    bound: Counter[str]


def _summarize(statement: ast.AST) -> _Summary:
    bound: Counter[str] = Counter()
    exits = False
    # (node, whether a `break` / `continue` there belongs to a loop inside `statement`)
    stack: list[tuple[ast.AST, bool]] = [(statement, False)]
    while stack:
        node, in_loop = stack.pop()
        bound.update(_bound_here(node))
        if isinstance(node, (ast.Return, ast.Raise)) or (
            isinstance(node, (ast.Break, ast.Continue)) and not in_loop
        ):
            exits = True
        if isinstance(node, _NESTED) and node is not statement:
            continue
        if isinstance(node, _LOOPS):
            # The body belongs to this loop; the `else:` and the header to the one around.
            loop = node
            stack.extend((child, True) for child in loop.body)
            stack.extend((child, in_loop) for child in loop.orelse)
            header = [loop.test] if isinstance(loop, ast.While) else [loop.target, loop.iter]
            stack.extend((child, in_loop) for child in header)
        else:
            stack.extend((child, in_loop) for child in child_nodes(node))
    return _Summary(exits, bound)


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    blocks: list[list[ast.stmt]] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            blocks.append(block)
    for handler in getattr(node, "handlers", ()):
        blocks.append(handler.body)
    for case in getattr(node, "cases", ()):
        blocks.append(case.body)
    return blocks


def _walk_own(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and what is inside it, nested functions, classes and lambdas left out."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, _NESTED) and current is not node:
            continue
        add_children(current, stack)


def _evaluated(expr: ast.expr) -> Iterator[ast.AST]:
    """The parts of an expression the analyzer evaluates (lambda bodies and slices are not)."""
    stack: list[ast.AST] = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.Lambda, ast.Slice)):
            continue
        add_children(node, stack)


def _bound_here(node: ast.AST) -> set[str] | tuple[()]:
    """Names `node` itself binds (or unbinds) in its function's scope."""
    kind = type(node)
    if kind is ast.Name:
        name = cast(ast.Name, node)
        return {name.id} if type(name.ctx) is not ast.Load else ()
    if kind not in _BINDING_NODES:
        return ()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".", 1)[0] for alias in node.names}
    if isinstance(node, ast.ExceptHandler) and node.name:
        return {node.name}
    if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return {node.name}
    if isinstance(node, ast.MatchMapping) and node.rest:
        return {node.rest}
    return set()


def _mentions_futures_in(nodes: list[ast.AST], names: Names) -> bool:
    waits, outside = names.static_wait_names, names.outside_names
    for node in nodes:
        kind = type(node)
        if kind is ast.Attribute:
            attr = cast(ast.Attribute, node).attr
            if attr in FUTURE_API or attr in _SUBMITS or attr in _WAITS:
                return True
        elif kind is ast.Name:
            name = cast(ast.Name, node).id
            if name in waits or (name in outside and names.is_module(name)):
                return True
    return False


def _arguments(call: ast.Call, *, starred: bool = True) -> list[ast.expr]:
    positional = [a for a in call.args if starred or not isinstance(a, ast.Starred)]
    return positional + [keyword.value for keyword in call.keywords]


def _is_submit(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in _SUBMITS


def _is_name(expr: ast.AST, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _holds_name(expr: ast.expr, name: str) -> bool:
    """`name` itself, or an element of a list, tuple or set literal, or a dict literal's value."""
    if _is_name(expr, name):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(_is_name(element, name) for element in expr.elts)
    if isinstance(expr, ast.Dict):
        return any(_is_name(value, name) for value in expr.values)
    return False


def _is_element(parent: ast.AST, child: ast.AST) -> bool:
    if isinstance(parent, (ast.List, ast.Tuple, ast.Set)):
        return any(element is child for element in parent.elts)
    if isinstance(parent, ast.Dict):
        return any(value is child for value in parent.values)
    if isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return parent.elt is child
    if isinstance(parent, ast.DictComp):
        return parent.value is child
    return False


def _root(expr: ast.expr) -> str | None:
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None
