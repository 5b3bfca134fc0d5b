"""Where each future of a flow goes: created, consumed, resolved, escaped.

The facts: docs/prefect-semantics.md#unwaited-futures-are-abandoned,
docs/prefect-semantics.md#what-waits-for-a-future and
docs/prefect-semantics.md#return-state-is-a-state.

One abstract interpretation of a flow's body over its statements. Every `.submit()` / `.map()`
call site is one abstract future; variables map to the sets of objects they may hold. What
runs on a path is tracked so that early returns, branches and loops are seen; anything the
analysis does not understand makes the futures involved *escape*, and escaped futures are
never reported (precision first).

The result is a list of facts the PFL1xx rules report on; no rule walks a flow body itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from prefect_lint.engine.walker import child_nodes
from prefect_lint.model import api
from prefect_lint.model.boundary import single_assignment
from prefect_lint.model.module import ModuleModel, keyword_arg, positional_args
from prefect_lint.model.scopes import Scope, names_in, parameters, pattern_names
from prefect_lint.model.values import Dotted, Flow, Task

# What a PrefectFuture / PrefectFutureList offers besides being a value (futures.py).
FUTURE_API = frozenset(
    {"result", "wait", "state", "task_run_id", "add_done_callback", "wrapped_future", "flow_run_id"}
)
# Builtins that read a future (or a container of them) without ever resolving it: counting,
# printing or formatting a dict of futures leaves every one of them running.
_NEUTRAL_BUILTINS = frozenset(
    {
        "len",
        "print",
        "isinstance",
        "id",
        "repr",
        "type",
        "bool",
        "hash",
        "str",
        "format",
        "ascii",
    }
)
# Logging calls only format their arguments (`%s` of a future is its repr).
_LOGGING_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
_LOGGER_FACTORIES = frozenset(
    {
        "logging.getLogger",
        "prefect.get_run_logger",
        "prefect.logging.get_run_logger",
        "prefect.logging.loggers.get_run_logger",
        "prefect.logging.get_logger",
        "prefect.logging.loggers.get_logger",
    }
)
_STRING_LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
_TRANSPARENT_BUILTINS = frozenset({"list", "tuple", "set", "sorted", "reversed", "iter"})
_TRANSPARENT_PREFECT = frozenset({"prefect.unmapped", "prefect.allow_failure"})
_CONTAINER_ADD = frozenset({"append", "extend", "insert", "add", "update", "setdefault"})
_CONTAINER_VIEW = frozenset({"copy", "pop", "popleft", "__iter__"})
_DICT_VIEWS = frozenset({"values", "keys", "items"})
_MAX_LOOP_PASSES = 4


class Site:
    """One `.submit()` (a future) or `.map()` (a PrefectFutureList) call site."""

    def __init__(self, call: cst.Call, task: Task, is_list: bool, loops: tuple[cst.CSTNode, ...]):
        self.call = call
        self.task = task
        self.is_list = is_list
        # The loops (for statements and comprehensions) the call sits in, outermost first.
        self.loops = loops
        self.upstream: set[Site] = set()
        self.consumed = False

    def __repr__(self) -> str:
        return f"Site({self.task.name}, list={self.is_list})"


class Element:
    """An element taken out of a `.map()` list: a single future of that site."""

    def __init__(self, site: Site, via: tuple[cst.CSTNode, cst.CompFor] | None = None) -> None:
        self.site = site
        # The comprehension whose `for` target took it straight from the list, if any.
        self.via = via


class Container:
    """A list/tuple/set/dict built in the flow; its members are what it may hold.

    A dict keeps its values in `members` and its keys apart (iterating a dict yields keys,
    subscripting it yields values). A tuple literal keeps what each position holds (`parts`),
    so `name, futures = pair` binds each name to its own part. A view (`d.values()`,
    `d.keys()`, `d.items()`) reads its dict live. `pure` says every member is a single
    future: only such a container can be spread into `wait([*container])`.
    """

    def __init__(self, node: cst.CSTNode, *, is_dict: bool = False) -> None:
        self.node = node
        self.members: set[Obj] = set()
        self.keys: set[Obj] = set()
        self.is_dict = is_dict
        self.parts: tuple[frozenset[Obj], ...] | None = None
        self.view: tuple[Container, str] | None = None
        self.pure = True

    def add(self, objs: Iterable[Obj]) -> None:
        """Store `objs` as members; anything but a single future makes the container impure."""
        for obj in objs:
            if obj is OTHER:
                self.pure = False
                continue
            if not _is_single_future(obj):
                self.pure = False
            self.members.add(obj)

    def inside(self) -> set[Obj]:
        """Every object the container can reach directly: members, keys, the viewed dict."""
        found = self.members | self.keys
        if self.view is not None:
            found.add(self.view[0])
        if self.parts is not None:
            for part in self.parts:
                found |= part
        return found


class DirectValue:
    """What a task or flow *called directly* returned: a plain value, not a future."""

    def __init__(
        self,
        call: cst.Call,
        callee: Task | Flow,
        callee_text: str,
        returns_state: bool,
        loops: tuple[cst.CSTNode, ...] = (),
    ) -> None:
        self.call = call
        # The loops the call sits in, outermost first.
        self.loops = loops
        self.callee = callee
        self.callee_text = callee_text
        # `return_state=True`: the value is a State, which has `.result()`.
        self.returns_state = returns_state
        self.future_uses: list[cst.CSTNode] = []
        self.other_uses = 0
        # Handed to code we cannot see (`asyncio.run(task())` runs an async task's coroutine).
        self.escaped = False

    def use_as_future(self, node: cst.CSTNode) -> None:
        if not self.returns_state and node not in self.future_uses:
            self.future_uses.append(node)


class _Other:
    """Anything that is not a future: numbers, strings, unknown results."""


OTHER = _Other()
Obj = Site | Element | Container | DirectValue | _Other


# -- facts the rules report ----------------------------------------------------------------


@dataclass
class Exit:
    """A point where the flow returns: a `return` statement, a `raise` that leaves the flow,
    or the end of the body (None)."""

    statement: cst.CSTNode | None
    suite: cst.CSTNode | None
    pending: frozenset[Site]
    # Names that definitely hold only futures/containers here, with what they hold.
    names: dict[str, frozenset[Obj]]

    @property
    def raises(self) -> bool:
        return isinstance(self.statement, cst.Raise)


@dataclass
class SerialResult:
    use: cst.Call  # the `.result()` / `.wait()` / `wait(...)` call
    site: Site
    loop: cst.CSTNode


@dataclass
class ValueUse:
    """A future used as the value it will hold (PFL108)."""

    node: cst.CSTNode  # the subscript / attribute / iteration
    future_expr: cst.BaseExpression
    is_list: bool
    # `[r["x"] for r in futures]`: the comprehension and its `for` that bound the future.
    via: tuple[cst.CSTNode, cst.CompFor] | None = None
    # Inside a generator expression (`await` there would make it an async generator).
    in_generator: bool = False


@dataclass
class FlowFacts:
    """What the analysis found in one function; `flow` is None for tasks and plain helpers."""

    function: cst.FunctionDef
    flow: Flow | None
    sites: list[Site] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)
    serial_results: list[SerialResult] = field(default_factory=list)
    direct_values: list[DirectValue] = field(default_factory=list)
    value_uses: list[ValueUse] = field(default_factory=list)
    single_waits: list[tuple[cst.Call, cst.Arg]] = field(default_factory=list)
    # Prefect 2 idioms on known futures and states (PFL302): ("await", the Await) of a future
    # or of its `.result()`/`.wait()`; ("wait", call) and ("get_state", call) on a future;
    # ("fetch", call) for `.result(fetch=...)` on a `return_state=True` State.
    v2_uses: list[tuple[str, cst.CSTNode]] = field(default_factory=list)

    def unresolved(self) -> list[Site]:
        """Terminal futures left pending at some exit, in source order of creation."""
        pending: set[Site] = set()
        for exit_ in self.exits:
            pending |= exit_.pending
        return [site for site in self.sites if site in pending and not site.consumed]


# -- abstract state --------------------------------------------------------------------------


# A state records the names it wrote since a snapshot it shares with the states forked from
# the same point, so joining two of them looks only at those names. Past this many it starts
# from a fresh snapshot (joining a state with an old snapshot costs one C-level diff instead).
_MAX_WRITTEN = 64


class State:
    """Variables -> what they may hold, pending futures, names that may be unassigned.

    `undefined` holds the names of `env` not assigned on every path (few), rather than the
    names that are (all of them), so that an assignment costs the same in a long flow.
    """

    __slots__ = ("base", "env", "pending", "undefined", "written")

    def __init__(
        self,
        env: dict[str, frozenset[Obj]],
        pending: frozenset[Site],
        undefined: frozenset[str] = frozenset(),
        base: object | None = None,
        written: set[str] | None = None,
    ) -> None:
        self.env = env
        self.pending = pending
        self.undefined = undefined
        # `env` equals the snapshot `base` stands for, except at the names in `written`.
        self.base = base if base is not None else object()
        self.written = written if written is not None else set()

    def __eq__(self, other: object) -> bool:
        # What a loop's fixpoint compares: the same contents, however they are represented.
        return (
            isinstance(other, State)
            and self.env == other.env
            and self.pending == other.pending
            and self.undefined == other.undefined
        )

    __hash__ = None  # type: ignore[assignment]

    def is_defined(self, name: str) -> bool:
        return name in self.env and name not in self.undefined

    def set(self, name: str, objs: frozenset[Obj], *, defined: bool = True) -> None:
        self.env[name] = objs
        self.written.add(name)
        if defined and name in self.undefined:
            self.undefined = self.undefined - {name}
        elif not defined and name not in self.undefined:
            self.undefined = self.undefined | {name}

    def remove(self, name: str) -> None:
        self.env.pop(name, None)
        self.written.add(name)
        if name in self.undefined:
            self.undefined = self.undefined - {name}

    def copy(self) -> State:
        """A fork: it and every other fork of this state until it changes share a snapshot."""
        if len(self.written) > _MAX_WRITTEN:
            self.base, self.written = object(), set()
        return State(dict(self.env), self.pending, self.undefined, self.base, set(self.written))


def join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b.copy() if b is not None else None
    if b is None:
        return a.copy()
    env = dict(a.env)
    undefined = set(a.undefined | b.undefined)
    if a.base is b.base:
        # Both are the same snapshot but for the names they wrote.
        written = a.written | b.written
        for name in written:
            held_a, held_b = a.env.get(name), b.env.get(name)
            if (held_a is None) != (held_b is None):
                undefined.add(name)  # assigned on one path only
            if held_b is not None:
                env[name] = held_b if held_a is None else held_a | held_b
        return State(env, a.pending | b.pending, frozenset(undefined), a.base, written)
    # Both usually descend from one state and differ in few names: the set difference (in C)
    # finds those without a Python step per variable of the flow.
    for name, objs in b.env.items() - a.env.items():
        env[name] = env.get(name, frozenset()) | objs
    undefined.update(a.env.keys() ^ b.env.keys())
    return State(env, a.pending | b.pending, frozenset(undefined))


def join_all(states: Iterable[State | None]) -> State | None:
    result: State | None = None
    for state in states:
        result = join(result, state)
    return result


@dataclass
class _LoopOutcome:
    exit: State | None  # the state when the loop condition ends it
    body_end: State | None  # the state at the end of one pass through the body
    breaks: list[State]


class _LoopFrame:
    def __init__(self, node: cst.CSTNode) -> None:
        self.node = node
        self.breaks: list[State] = []
        self.continues: list[State] = []


class FlowAnalyzer:
    """Interprets one flow body; `analyze()` returns its `FlowFacts`."""

    def __init__(
        self,
        model: ModuleModel,
        function: cst.FunctionDef,
        flow: Flow | None,
        scope: Scope,
        module: cst.Module,
    ) -> None:
        self.model = model
        self.module = module
        self.scope = scope
        self.facts = FlowFacts(function, flow)
        self.loops: list[cst.CSTNode] = []
        self.loop_frames: list[_LoopFrame] = []
        self.state: State | None = None
        self._sites: dict[int, Site] = {}
        self._containers: dict[int, Container] = {}
        self._directs: dict[int, DirectValue] = {}
        self._serial_seen: set[int] = set()
        # `.result()` / `.wait()` calls (by id) made on a known future.
        self._future_calls: set[int] = set()
        self.outer_names: set[str] = set()
        # Futures whose `.state` a `while` condition reads (innermost loop last).
        self._state_reads: list[set[Site]] = []
        # How many `try` bodies (or `with` blocks, which may suppress) enclose this point.
        self._guards = 0

    # -- driver ---------------------------------------------------------------------------

    def analyze(self) -> FlowFacts:
        function = self.facts.function
        params = frozenset(p.name.value for p in parameters(function.params))
        self.state = State({name: frozenset({OTHER}) for name in params}, frozenset())
        self.exec_block(function.body)
        if self.state is not None:
            self._record_exit(None, None)
        return self.facts

    # -- statements -------------------------------------------------------------------------

    def exec_block(self, body: cst.BaseSuite | Sequence[cst.BaseStatement]) -> None:
        if isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                if self.state is None:
                    return
                self.exec_small(small, body)
            return
        statements = body.body if isinstance(body, cst.IndentedBlock) else body
        for statement in statements:
            if self.state is None:
                return  # unreachable code after return/raise/break/continue
            self.exec_statement(statement, body)

    def exec_statement(self, statement: cst.BaseStatement, suite: object) -> None:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if self.state is None:
                    return
                self.exec_small(small, statement)
        elif isinstance(statement, cst.If):
            self.eval(statement.test)
            known = self._known_truth(statement.test)
            before = self.state
            self.state = before.copy() if before is not None and known is not False else None
            self.exec_block(statement.body)
            after_body = self.state
            self.state = before.copy() if before is not None and known is not True else None
            if statement.orelse is not None:
                if isinstance(statement.orelse, cst.If):
                    self.exec_statement(statement.orelse, suite)
                else:
                    self.exec_block(statement.orelse.body)
            self.state = join(after_body, self.state)
        elif isinstance(statement, cst.For):
            self.exec_for(statement)
        elif isinstance(statement, cst.While):
            self.exec_while(statement)
        elif isinstance(statement, (cst.Try, cst.TryStar)):
            self.exec_try(statement)
        elif isinstance(statement, cst.With):
            for item in statement.items:
                self.eval(item.item)
                if item.asname is not None:
                    self.assign(item.asname.name, frozenset({OTHER}))
            self._guards += 1
            try:
                self.exec_block(statement.body)
            finally:
                self._guards -= 1
        elif isinstance(statement, cst.Match):
            self.eval(statement.subject)
            before = self.state
            last = statement.cases[-1] if statement.cases else None
            irrefutable = (
                last is not None
                and last.guard is None
                and isinstance(last.pattern, cst.MatchAs)
                and last.pattern.pattern is None
            )
            # Without a catch-all `case _:` it may be that no case matches.
            outcomes: list[State | None] = [] if irrefutable else [before]
            for case in statement.cases:
                self.state = before.copy() if before else None
                for name in pattern_names(case.pattern):
                    self.assign(cst.Name(name), frozenset({OTHER}))
                if case.guard is not None:
                    self.eval(case.guard)
                self.exec_block(case.body)
                outcomes.append(self.state)
            self.state = join_all(outcomes)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            # A nested def sees the flow's variables: whatever it captures escapes.
            self.escape_captured(statement)
            self.assign(statement.name, frozenset({OTHER}))

    def _known_truth(self, test: cst.BaseExpression) -> bool | None:
        """`future`, `future is not None`, `not future`, `future is None` when `future` can only
        hold single futures (never None, always truthy); None when it cannot be known."""
        negate = False
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            negate, test = True, test.expression
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            target = test.comparisons[0]
            if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
                return None
            if isinstance(target.operator, cst.IsNot):
                pass
            elif isinstance(target.operator, cst.Is):
                negate = not negate
            else:
                return None
            test = test.left
        if not isinstance(test, cst.Name) or self.state is None:
            return None
        held = self.state.env.get(test.value)
        if not held or not all(
            isinstance(o, Element) or (isinstance(o, Site) and not o.is_list) for o in held
        ):
            return None
        return not negate

    def exec_small(self, small: cst.BaseSmallStatement, statement: cst.CSTNode) -> None:
        if isinstance(small, cst.Expr):
            self.eval(small.value)
        elif isinstance(small, cst.Assign):
            objs = self.eval(small.value)
            for target in small.targets:
                self.assign(target.target, objs, small.value)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value), small.value)
        elif isinstance(small, cst.AugAssign):
            objs = self.eval(small.value)
            target = small.target
            if isinstance(target, cst.Name) and self.state is not None:
                held = self.state.env.get(target.value, frozenset())
                containers = [o for o in held if isinstance(o, Container)]
                if containers and isinstance(small.operator, cst.AddAssign):
                    for container in containers:
                        container.add(self.members(objs))
                    return
                self.escape(objs)
                self.assign(target, frozenset({OTHER}))
            else:
                self.escape(objs)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                # Returning futures (in any collection) makes Prefect wait for them.
                self.resolve(self.eval(small.value))
            self._record_exit(small, statement)
            self.state = None
        elif isinstance(small, cst.Raise):
            if small.exc is not None:
                self.escape(self.eval(small.exc))
            if small.cause is not None:
                self.escape(self.eval(small.cause.item))
            if not self._guards:
                # The flow fails here at once, without waiting for what it submitted (an
                # alert or a cleanup submitted in an `except` block may be cancelled).
                # Inside a `try` or `with` the exception may be caught: not an exit then.
                self._record_exit(small, statement)
            self.state = None
        elif isinstance(small, cst.Break):
            if self.loop_frames and self.state is not None:
                self.loop_frames[-1].breaks.append(self.state)
            self.state = None
        elif isinstance(small, cst.Continue):
            if self.loop_frames and self.state is not None:
                self.loop_frames[-1].continues.append(self.state)
            self.state = None
        elif isinstance(small, cst.Assert):
            self.eval(small.test)
        elif isinstance(small, cst.Del):
            # `del name` unbinds it: a fix must not name it afterwards (NameError). Deleting
            # an element or attribute leaves the name bound.
            targets = small.target.elements if isinstance(small.target, cst.Tuple) else []
            for target in [element.value for element in targets] or [small.target]:
                if isinstance(target, cst.Name):
                    self.assign(target, frozenset())
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            # Whatever these names receive outlives the flow's frame: it escapes.
            self.outer_names |= {name.name.value for name in small.names}
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            names = small.names if not isinstance(small.names, cst.ImportStar) else ()
            for alias in names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                while isinstance(bound, cst.Attribute):
                    bound = bound.value
                if isinstance(bound, cst.Name):
                    self.assign(bound, frozenset({OTHER}))

    def _loop(
        self, node: cst.CSTNode, body_runner: Callable[[], None], entry: State | None
    ) -> _LoopOutcome:
        """Run a loop body to a fixpoint from `entry`."""
        frame = _LoopFrame(node)
        self.loop_frames.append(frame)
        self.loops.append(node)
        head, body_end = entry, None
        try:
            for _ in range(_MAX_LOOP_PASSES):
                self.state = head.copy() if head else None
                frame.continues = []
                body_runner()
                body_end = join_all([self.state, *frame.continues])
                new_head = join(head, body_end)
                if new_head == head:
                    break
                head = new_head
        finally:
            self.loops.pop()
            self.loop_frames.pop()
        return _LoopOutcome(head, body_end, frame.breaks)

    def _leave_loop(self, outcome: _LoopOutcome, orelse: cst.Else | None) -> None:
        """`else:` runs on the normal exit; `break` paths join after it."""
        self.state = outcome.exit
        if orelse is not None:
            self.exec_block(orelse.body)
        self.state = join_all([self.state, *outcome.breaks])

    def exec_for(self, statement: cst.For) -> None:
        elements = self.iterate(self.eval(statement.iter), statement.iter)

        def body() -> None:
            self.assign(statement.target, elements)
            self.exec_block(statement.body)

        outcome = self._loop(statement, body, self.state)
        if outcome.exit is not None and outcome.body_end is not None:
            # Zero iterations means an empty collection, which holds no futures: elements the
            # body resolves on every path are resolved when the loop ends normally.
            handled = self.futures_in(elements) - outcome.body_end.pending
            outcome.exit.pending = outcome.exit.pending - handled
        self._leave_loop(outcome, statement.orelse)

    def exec_while(self, statement: cst.While) -> None:
        polled: set[Site] = set()
        self._state_reads.append(polled)
        self.eval(statement.test)
        self._state_reads.pop()

        def body() -> None:
            self.exec_block(statement.body)
            self.eval(statement.test)

        outcome = self._loop(statement, body, self.state)
        if outcome.exit is not None and polled:
            # `while not all(f.state.is_final() for f in futures)`: a busy-wait on them.
            outcome.exit.pending = outcome.exit.pending - polled
        self._leave_loop(outcome, statement.orelse)

    def exec_try(self, statement: cst.Try | cst.TryStar) -> None:
        before = self.state.copy() if self.state is not None else None
        # A `finally` clause runs on the way out too, and may wait: guarded like the body.
        guarded = 1 if statement.handlers or statement.finalbody is not None else 0
        self._guards += guarded
        try:
            self.exec_block(statement.body)
        finally:
            self._guards -= guarded
        after_body = self.state
        # An exception can leave the body anywhere: handlers start from either end of it.
        handler_entry = join(before, after_body)
        outcomes: list[State | None] = []
        # With a `finally`, a `raise` in a handler or the `else` still runs it first.
        guarded = 1 if statement.finalbody is not None else 0
        self._guards += guarded
        try:
            for handler in statement.handlers:
                self.state = handler_entry.copy() if handler_entry else None
                if handler.type is not None:
                    self.eval(handler.type)
                if handler.name is not None:
                    self.assign(handler.name.name, frozenset({OTHER}))
                self.exec_block(handler.body)
                outcomes.append(self.state)
            self.state = after_body
            if statement.orelse is not None:
                self.exec_block(statement.orelse.body)
        finally:
            self._guards -= guarded
        outcomes.append(self.state)
        self.state = join_all(outcomes)
        if statement.finalbody is not None:
            self.exec_block(statement.finalbody.body)

    # -- binding --------------------------------------------------------------------------------

    def assign(
        self,
        target: cst.BaseExpression,
        objs: frozenset[Obj],
        value: cst.BaseExpression | None = None,
    ) -> None:
        state = self.state
        if state is None:
            return
        if isinstance(target, cst.Name) and target.value in self.outer_names:
            self.escape(objs)
        elif isinstance(target, cst.Name):
            state.set(target.value, objs)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elements):
                for element, source in zip(elements, value.elements, strict=True):
                    objs_for = self._objs_of_element(source)
                    self.assign(element.value, objs_for)
                return
            starred = any(isinstance(e.value, cst.StarredElement) for e in elements)
            held: list[set[Obj]] = [set() for _ in elements]
            for obj in objs or {OTHER}:
                parts = _parts(obj)
                if parts is not None and not starred and len(parts) == len(elements):
                    # `name, futures = pair`: each name gets what its position holds.
                    for position, part in enumerate(parts):
                        held[position] |= part
                    continue
                for position in range(len(elements)):
                    held[position] |= self.unpacked([obj])
            for element, objs_for in zip(elements, held, strict=True):
                inner = element.value
                if isinstance(inner, cst.StarredElement):
                    inner = inner.value
                self.assign(inner, frozenset(objs_for) or frozenset({OTHER}))
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, objs)
        elif isinstance(target, cst.Subscript):
            keys: set[Obj] = set()
            for element in target.slice:
                if isinstance(element.slice, cst.Index):
                    keys |= self.eval(element.slice.value)
            held = self.eval(target.value)
            containers = [o for o in held if isinstance(o, Container)]
            if containers:
                for container in containers:
                    container.add(objs)
                    if container.is_dict:
                        # `m[future] = n` keeps the future as a key of `m`.
                        container.keys |= keys - {OTHER}
                    else:
                        container.pure = False
            else:
                self.escape((objs | keys) - {OTHER})
        else:
            # `self.x = future`, `obj[k] = future` on an unknown object: out of our sight.
            self.escape(objs)

    def _objs_of_element(self, element: cst.BaseElement) -> frozenset[Obj]:
        # The tuple's elements were already evaluated as part of the whole value; look the
        # element up again without re-running side effects.
        value = element.value
        if isinstance(value, cst.Call) and id(value) in self._sites:
            return frozenset({self._sites[id(value)]})
        if isinstance(value, cst.Call) and id(value) in self._directs:
            return frozenset({self._directs[id(value)]})
        if isinstance(value, cst.Name) and self.state is not None:
            return self.state.env.get(value.value, frozenset({OTHER}))
        return frozenset({OTHER})

    # -- effects --------------------------------------------------------------------------------

    def futures_in(self, objs: Iterable[Obj]) -> set[Site]:
        """Every future reachable from `objs` (through containers and list elements)."""
        found: set[Site] = set()
        seen: set[int] = set()
        stack = list(objs)
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Site):
                found.add(obj)
            elif isinstance(obj, Element):
                found.add(obj.site)
            elif isinstance(obj, Container):
                stack.extend(obj.inside())
        return found

    def unpacked(self, objs: Iterable[Obj]) -> set[Obj]:
        """What `a, b = value` may bind when the positions are not known: a container's
        elements; anything else stays as it is."""
        out: set[Obj] = set()
        for obj in objs:
            if isinstance(obj, Container) or (isinstance(obj, Site) and obj.is_list):
                out |= self.members([obj])
            else:
                out.add(obj)
        return out

    def members(self, objs: Iterable[Obj]) -> set[Obj]:
        """What iterating `objs` yields (a dict's keys, a view's keys, values or pairs)."""
        out: set[Obj] = set()
        for obj in objs:
            if isinstance(obj, Container):
                out |= _iterated(obj)
            elif isinstance(obj, Site) and obj.is_list:
                out.add(Element(obj))
            else:
                out.add(OTHER)
        return out

    def resolve(self, objs: Iterable[Obj]) -> None:
        state = self.state
        if state is None:
            return
        done: set[Site] = set()
        stack = list(self.futures_in(objs))
        while stack:
            site = stack.pop()
            if site in done:
                continue
            done.add(site)
            # A resolved future was waited through its inputs too.
            stack.extend(site.upstream)
        state.pending = state.pending - done

    def escape(self, objs: Iterable[Obj]) -> None:
        objs = list(objs)
        for obj in objs:
            if isinstance(obj, DirectValue):
                obj.other_uses += 1
                obj.escaped = True
        self.resolve(objs)  # out of sight: treated as handled, never reported

    def consume(self, site: Site, objs: Iterable[Obj]) -> None:
        """`objs` are passed into `site`'s task: they resolve when (if) `site` resolves."""
        state = self.state
        upstream = self.futures_in(objs)
        site.upstream |= upstream
        for up in upstream:
            up.consumed = True
        if state is not None:
            state.pending = state.pending - upstream

    def escape_captured(self, node: cst.CSTNode) -> None:
        if self.state is None:
            return
        for name in names_in(node):
            if name in self.state.env:
                self.escape(self.state.env[name])

    def value_use(self, node: cst.CSTNode, future_expr: cst.BaseExpression, obj: Obj) -> None:
        """A future used as its value (PFL108). It fails right there, so PFL102 need not
        report it too: the future counts as handled."""
        is_list = isinstance(obj, Site) and obj.is_list
        via = obj.via if isinstance(obj, Element) else None
        if via is not None and not (
            isinstance(future_expr, cst.Name)
            and isinstance(via[1].target, cst.Name)
            and future_expr.value == via[1].target.value
        ):
            via = None
        in_generator = any(isinstance(loop, cst.GeneratorExp) for loop in self.loops)
        self.facts.value_uses.append(
            ValueUse(node, future_expr, is_list=is_list, via=via, in_generator=in_generator)
        )
        self.escape([obj])

    def iterate(self, objs: frozenset[Obj], expr: cst.BaseExpression) -> frozenset[Obj]:
        """Bindings of a loop variable over `objs`; flags iterating a single future (PFL108)."""
        for obj in objs:
            if isinstance(obj, (Site, Element)) and not (isinstance(obj, Site) and obj.is_list):
                self.value_use(expr, expr, obj)
        return frozenset(self.members(objs)) or frozenset({OTHER})

    # -- expressions ----------------------------------------------------------------------------

    def eval(self, expr: cst.BaseExpression) -> frozenset[Obj]:
        if self.state is None:
            return frozenset()
        if isinstance(expr, cst.Name):
            objs = self.state.env.get(expr.value)
            if objs is None:
                return frozenset({OTHER})
            return objs
        if isinstance(expr, cst.Call):
            return self.eval_call(expr)
        if isinstance(expr, cst.Attribute):
            return self.eval_attribute(expr)
        if isinstance(expr, cst.Subscript):
            held = self.eval(expr.value)
            for element in expr.slice:
                if isinstance(element.slice, cst.Index):
                    self.eval(element.slice.value)
            out: set[Obj] = set()
            for obj in held:
                if isinstance(obj, Container):
                    # A dict's values, a list's or tuple's elements.
                    out |= _subscripted(obj)
                elif isinstance(obj, Site) and obj.is_list:
                    out |= self.members([obj])
                elif isinstance(obj, (Site, Element)):
                    self.value_use(expr, expr.value, obj)
                    out.add(OTHER)
                else:
                    self._value_use(obj)
                    out.add(OTHER)
            return frozenset(out) or frozenset({OTHER})
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            container = self._container(expr)
            parts: list[frozenset[Obj]] = []
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    container.add(self.members(self.eval(element.value)))
                    continue
                objs = self.eval(element.value)
                container.add(objs)
                parts.append(objs)
            if isinstance(expr, cst.Tuple) and len(parts) == len(expr.elements):
                container.parts = tuple(parts)
            return frozenset({container})
        if isinstance(expr, cst.Dict):
            container = self._container(expr, is_dict=True)
            for element in expr.elements:
                if isinstance(element, cst.DictElement):
                    container.keys |= self.eval(element.key) - {OTHER}
                    container.add(self.eval(element.value))
                elif isinstance(element, cst.StarredDictElement):
                    self._merge_dict(container, self.eval(element.value))
            return frozenset({container})
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self.eval_comprehension(expr)
        if isinstance(expr, cst.NamedExpr):
            objs = self.eval(expr.value)
            self.assign(expr.target, objs)
            return objs
        if isinstance(expr, cst.Await):
            # `await future` is a TypeError in 3.x, but the intent is to wait: not PFL102's case.
            objs = self.eval(expr.expression)
            submitted = [
                obj for obj in objs if isinstance(obj, Site) and obj.call is expr.expression
            ]
            if (
                submitted
                or id(expr.expression) in self._future_calls
                or any(isinstance(obj, (Site, Element)) for obj in objs)
            ):
                self.facts.v2_uses.append(("await", expr))
            if submitted:
                # Prefect 2's `await task.submit()` gave the future itself.
                return frozenset(submitted)
            self.resolve(objs)
            return frozenset({OTHER})
        if isinstance(expr, (cst.Lambda,)):
            self.escape_captured(expr)
            return frozenset({OTHER})
        if isinstance(expr, (cst.Yield,)):
            if isinstance(expr.value, cst.BaseExpression):
                self.escape(self.eval(expr.value))
            elif isinstance(expr.value, cst.From):
                self.escape(self.eval(expr.value.item))
            return frozenset({OTHER})
        if isinstance(expr, cst.IfExp):
            self.eval(expr.test)
            return self.eval(expr.body) | self.eval(expr.orelse)
        if isinstance(expr, cst.BooleanOperation):
            return self.eval(expr.left) | self.eval(expr.right)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left, right = self.eval(expr.left), self.eval(expr.right)
            if any(_is_collection_obj(o) for o in left | right):
                # `futures + [future]`: a new list holding both sides' elements.
                container = self._container(expr)
                container.add(self.members(left | right))
                return frozenset({container})
            for obj in left | right:
                self._value_use(obj)
            return frozenset({OTHER})
        if isinstance(expr, (cst.BinaryOperation, cst.Comparison, cst.UnaryOperation)):
            for child in _expression_children(expr):
                objs = self.eval(child)
                for obj in objs:
                    self._value_use(obj)
                if isinstance(expr, cst.BinaryOperation) and not _is_string_format(expr):
                    # What an arithmetic operator makes of a future is out of our sight;
                    # comparing one (`f is None`) or `%`-formatting it hands it nowhere.
                    self.escape(o for o in objs if not isinstance(o, DirectValue))
            return frozenset({OTHER})
        if isinstance(expr, (cst.FormattedString, cst.ConcatenatedString)):
            for child in _expression_children(expr):
                self.eval(child)
            return frozenset({OTHER})
        if isinstance(expr, cst.StarredElement):
            return self.eval(expr.value)
        return frozenset({OTHER})

    def _value_use(self, obj: Obj) -> None:
        if isinstance(obj, DirectValue):
            obj.other_uses += 1

    def _container(self, node: cst.CSTNode, *, is_dict: bool = False) -> Container:
        container = self._containers.get(id(node))
        if container is None:
            container = Container(node, is_dict=is_dict)
            self._containers[id(node)] = container
        return container

    def _merge_dict(self, container: Container, objs: Iterable[Obj]) -> None:
        """`{**other}` / `d.update(other)`: the other dict's keys and values."""
        for obj in objs:
            if isinstance(obj, Container) and obj.is_dict:
                container.members |= obj.members
                container.keys |= obj.keys
                container.pure = container.pure and obj.pure
            else:
                container.add(self.members([obj]))

    def eval_comprehension(
        self, expr: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> frozenset[Obj]:
        state = self.state
        assert state is not None
        saved_env, saved_undefined = dict(state.env), state.undefined
        targets: set[str] = set()
        comp_for: cst.CompFor | None = expr.for_in
        while comp_for is not None:
            targets |= _target_names(comp_for.target)
            comp_for = comp_for.inner_for_in
        container = self._container(expr, is_dict=isinstance(expr, cst.DictComp))
        # The outermost iterable is evaluated once, before the comprehension loops.
        first_iter = self.eval(expr.for_in.iter)
        self.loops.append(expr)
        try:
            comp: cst.CompFor | None = expr.for_in
            while comp is not None and self.state is not None:
                iterated = first_iter if comp is expr.for_in else self.eval(comp.iter)
                elements = self.iterate(iterated, comp.iter)
                if iterated and all(isinstance(o, Site) and o.is_list for o in iterated):
                    # Remember where each element came from (PFL108 can take all the values).
                    elements = frozenset(
                        Element(o.site, (expr, comp)) for o in elements if isinstance(o, Element)
                    )
                self.assign(comp.target, elements)
                for condition in comp.ifs:
                    self.eval(condition.test)
                comp = comp.inner_for_in
            if self.state is not None:
                if isinstance(expr, cst.DictComp):
                    container.keys |= self.eval(expr.key) - {OTHER}
                    container.add(self.eval(expr.value))
                else:
                    container.add(self.eval(expr.elt))
        finally:
            self.loops.pop()
        if self.state is not None:
            # Comprehension variables do not leak into the flow's scope.
            for name in targets:
                if name in saved_env:
                    defined = name not in saved_undefined
                    self.state.set(name, saved_env[name], defined=defined)
                else:
                    self.state.remove(name)
        return frozenset({container})

    def eval_attribute(self, expr: cst.Attribute) -> frozenset[Obj]:
        held = self.eval(expr.value)
        name = expr.attr.value
        if name == "state" and self._state_reads:
            self._state_reads[-1].update(self.futures_in(held))
        for obj in held:
            if isinstance(obj, DirectValue) and name in FUTURE_API:
                obj.use_as_future(expr)
            elif isinstance(obj, DirectValue):
                obj.other_uses += 1
            elif isinstance(obj, (Site, Element)) and name not in FUTURE_API:
                is_list = isinstance(obj, Site) and obj.is_list
                if not is_list or not hasattr(list, name):
                    self.value_use(expr, expr.value, obj)
        return frozenset({OTHER})

    # -- calls ----------------------------------------------------------------------------------

    def holds_objects(self, name: str) -> bool:
        """Is `name` a variable of this flow that may hold futures or containers?"""
        if self.state is None:
            return False
        return any(obj is not OTHER for obj in self.state.env.get(name, ()))

    def callee(self, func: cst.BaseExpression) -> object:
        """What a called expression is (a model value), unless it is built on our objects."""
        base: cst.BaseExpression = func
        while isinstance(base, cst.Attribute):
            base = base.value
        if isinstance(base, cst.Name) and self.holds_objects(base.value):
            return None
        return self.model.evaluate(func, self.scope)

    def eval_args(self, call: cst.Call) -> list[frozenset[Obj]]:
        return [self.eval(arg.value) for arg in call.args]

    def eval_call(self, call: cst.Call) -> frozenset[Obj]:
        func = call.func
        if self._formats_only(func):
            return self._read_only_call(call)
        # Methods on our own objects: futures, lists of futures, containers, direct values.
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            owner = self.callee(func.value)
            if isinstance(owner, Task) and method in ("submit", "map"):
                return self.submit(call, owner, is_list=method == "map")
            if owner is None:
                held = self.eval(func.value)
                if any(obj is not OTHER for obj in held):
                    return self.call_method(call, held, method)
                for objs in self.eval_args(call):
                    self.escape(objs)
                return frozenset({OTHER})
        value = self.callee(func)
        if isinstance(value, Dotted):
            name = value.name
            if name in (api.FUTURES_WAIT, api.FUTURES_AS_COMPLETED):
                return self.call_wait(call, name)
            if name in _TRANSPARENT_PREFECT:
                objs = frozenset().union(*self.eval_args(call)) if call.args else frozenset()
                return objs
        if isinstance(func, cst.Name) and self.model.lookup(func.value, self.scope) is None:
            if func.value in _NEUTRAL_BUILTINS and not self.model.is_bound(func.value, self.scope):
                return self._read_only_call(call)
            if func.value in _TRANSPARENT_BUILTINS and not self.model.is_bound(
                func.value, self.scope
            ):
                args = self.eval_args(call)
                if not args:
                    return frozenset({OTHER})
                container = self._container(call)
                container.add(self.members(args[0]))
                for objs in args[1:]:
                    self.escape(objs)
                return frozenset({container})
        if isinstance(value, (Task, Flow)) and not (
            isinstance(value, Flow) and value.infrastructure_bound
        ):
            return self.direct_call(call, value)
        # Unknown callee: whatever it receives is out of our sight.
        if not isinstance(func, cst.Name):
            self.eval(func)
        for arg, objs in zip(call.args, self.eval_args(call), strict=True):
            self.escape(objs)
            value = arg.value
            if isinstance(value, cst.Attribute) and value.attr.value in ("wait", "result"):
                # `asyncio.to_thread(futures.wait)`: the bound method is handed on to be run.
                self.escape(self.eval(value.value))
        return frozenset({OTHER})

    def _read_only_call(self, call: cst.Call) -> frozenset[Obj]:
        """A call that reads its arguments without resolving a future among them."""
        for objs in self.eval_args(call):
            for obj in objs:
                self._value_use(obj)
        return frozenset({OTHER})

    def _formats_only(self, func: cst.BaseExpression) -> bool:
        """String methods on a literal (`", ".join(...)`, `"{}".format(...)`) and logging calls
        (`logger.info(...)`, `logging.warning(...)`): they format futures, never resolve them."""
        if not isinstance(func, cst.Attribute):
            return False
        receiver = func.value
        if isinstance(receiver, _STRING_LITERALS):
            return True
        if func.attr.value not in _LOGGING_METHODS:
            return False
        if isinstance(receiver, cst.Name) and self.holds_objects(receiver.value):
            return False
        value = self.model.evaluate(receiver, self.scope)
        if isinstance(value, Dotted):
            return value.name == "logging"
        if not isinstance(receiver, cst.Name):
            return False
        assigned = single_assignment(self.model, receiver.value, self.scope)
        if assigned is None or not isinstance(assigned[0], cst.Call):
            return False
        factory = self.model.evaluate(assigned[0].func, assigned[1])
        return isinstance(factory, Dotted) and factory.name in _LOGGER_FACTORIES

    def call_method(self, call: cst.Call, held: frozenset[Obj], method: str) -> frozenset[Obj]:
        args = self.eval_args(call)
        result: set[Obj] = set()
        for obj in held:
            if isinstance(obj, (Site, Element)):
                if method in ("result", "wait") and id(call) not in self._future_calls:
                    self._future_calls.add(id(call))
                    if method == "wait" and not (isinstance(obj, Site) and obj.is_list):
                        self.facts.v2_uses.append(("wait", call))
                if method == "get_state":
                    # Prefect 2's accessor; 3.x futures have `.state` only (AttributeError).
                    self.facts.v2_uses.append(("get_state", call))
                    result.add(OTHER)
                elif method in ("result", "wait"):
                    self._serial_check(call, obj)
                    self.resolve([obj])
                    result.add(OTHER)
                elif method in FUTURE_API:
                    for objs in args:
                        self.escape(objs)
                    result.add(OTHER)
                elif isinstance(obj, Site) and obj.is_list and hasattr(list, method):
                    result |= self._container_method(call, obj, method, args)
                else:
                    func = call.func
                    assert isinstance(func, cst.Attribute)
                    self.value_use(func, func.value, obj)
                    result.add(OTHER)
            elif isinstance(obj, Container):
                result |= self._container_method(call, obj, method, args)
            elif isinstance(obj, DirectValue):
                if method == "result" and obj.returns_state and keyword_arg(call, "fetch"):
                    self.facts.v2_uses.append(("fetch", call))
                if method in ("result", "wait"):
                    obj.use_as_future(call)
                else:
                    obj.other_uses += 1
                result.add(OTHER)
            else:
                for objs in args:
                    self.escape(objs)
                result.add(OTHER)
        return frozenset(result) or frozenset({OTHER})

    def _container_add(self, obj: Container, method: str, args: list[frozenset[Obj]]) -> None:
        if not args:
            return
        if method == "update" and obj.is_dict:
            self._merge_dict(obj, args[0])
        elif method in ("extend", "update"):
            obj.add(self.members(args[0]))
        elif method == "setdefault":
            obj.keys |= args[0] - {OTHER}
            obj.add(args[1] if len(args) > 1 else {OTHER})
        else:  # append, add, insert(index, value)
            obj.add(args[-1])
        if obj.is_dict and method not in ("update", "setdefault"):
            obj.pure = False

    def _container_method(
        self, call: cst.Call, obj: Site | Container, method: str, args: list[frozenset[Obj]]
    ) -> set[Obj]:
        if isinstance(obj, Container) and method in _CONTAINER_ADD:
            self._container_add(obj, method, args)
            return set(obj.members) | {OTHER} if method == "setdefault" else {OTHER}
        if isinstance(obj, Container) and method in _DICT_VIEWS:
            # A live view of the dict: it yields what the dict holds when it is iterated.
            view = self._container(call)
            view.view = (obj, method)
            view.pure = method == "values" and obj.pure
            if method == "items":
                pair = self._container(call.func)
                pair.view = (obj, "pair")
                view.members = {pair}
            return {view}
        if method in _CONTAINER_VIEW:
            if method != "pop":
                return {obj}
            return set(_subscripted(obj)) if isinstance(obj, Container) else self.members([obj])
        if method in (
            "index",
            "count",
            "sort",
            "reverse",
            "clear",
            "remove",
            "get",
        ):
            if method == "get" and isinstance(obj, Container):
                return set(obj.members) | {OTHER}
            return {OTHER}
        for objs in args:
            self.escape(objs)
        self.escape([obj])
        return {OTHER}

    def submit(self, call: cst.Call, task: Task, *, is_list: bool) -> frozenset[Obj]:
        returns_state = returns_states(call)
        if returns_state is not False:
            # `return_state=True` waits for the run(s) and gives State(s), never futures; a
            # flag we cannot read may do either, so what the call receives is out of sight.
            for objs in self.eval_args(call):
                (self.resolve if returns_state else self.escape)(objs)
            return frozenset({OTHER})
        site = self._sites.get(id(call))
        if site is None:
            site = Site(call, task, is_list, tuple(self.loops))
            self._sites[id(call)] = site
            self.facts.sites.append(site)
        for objs in self.eval_args(call):
            self.consume(site, objs)
        state = self.state
        if state is not None:
            state.pending = state.pending | {site}
        return frozenset({site})

    def call_wait(self, call: cst.Call, name: str) -> frozenset[Obj]:
        args = positional_args(call)
        timeout = keyword_arg(call, "timeout")
        objs_by_arg = self.eval_args(call)
        if not args:
            for objs in objs_by_arg:
                self.escape(objs)
            return frozenset({OTHER})
        first = next(o for a, o in zip(call.args, objs_by_arg, strict=True) if a is args[0])
        singles = [o for o in first if isinstance(o, (Site, Element))]
        if singles and all(
            isinstance(o, Element) or (isinstance(o, Site) and not o.is_list) for o in first
        ):
            self.facts.single_waits.append((call, args[0]))
        for obj in first | frozenset(self.members(first)):
            self._serial_check(call, obj)
            if isinstance(obj, DirectValue):
                obj.use_as_future(obj.call)
        if timeout is not None:
            # With a timeout, some futures may still be running afterwards: not our call.
            self.escape(first)
        else:
            self.resolve(first)
        if name == api.FUTURES_AS_COMPLETED:
            container = self._container(call)
            container.add(self.members(first))
            return frozenset({container})
        return frozenset({OTHER})

    def direct_call(self, call: cst.Call, callee: Task | Flow) -> frozenset[Obj]:
        args = self.eval_args(call)
        for objs in args:
            # A direct call blocks; Prefect resolves futures among its parameters first.
            if isinstance(callee, Task):
                self.resolve(objs)
            else:
                self.escape(objs)
        direct = self._directs.get(id(call))
        if direct is None:
            text = self.module.code_for_node(call.func)
            direct = DirectValue(
                call, callee, text, returns_states(call) is not False, tuple(self.loops)
            )
            self._directs[id(call)] = direct
            self.facts.direct_values.append(direct)
        return frozenset({direct})

    def _serial_check(self, use: cst.Call, obj: Obj) -> None:
        """`.result()` inside the loop that submitted the same future (PFL103).

        Not for `.map()` lists (a barrier per chunk), `while` loops (polling), loops that can
        stop early (`break`/`return`: the next step may depend on the result), or submits
        whose arguments use a name the loop body assigns (each run needs the last result).
        """
        if not isinstance(obj, Site) or obj.is_list or not self.loops:
            return
        loop = self.loops[-1]
        if loop not in obj.loops or id(loop) in self._serial_seen:
            return
        if not serializes(loop, obj.call):
            return
        self._serial_seen.add(id(loop))
        self.facts.serial_results.append(SerialResult(use, obj, loop))

    # -- exits ----------------------------------------------------------------------------------

    def _record_exit(self, statement: cst.CSTNode | None, suite: cst.CSTNode | None) -> None:
        state = self.state
        if state is None:
            return
        names: dict[str, frozenset[Obj]] = {}
        for name, objs in state.env.items():
            if (
                name not in state.undefined
                and objs
                and all(isinstance(o, (Site, Container)) for o in objs)
            ):
                names[name] = objs
        self.facts.exits.append(Exit(statement, suite, state.pending, names))


# -- helpers ---------------------------------------------------------------------------------


def serializes(loop: cst.CSTNode, submit: cst.Call) -> bool:
    """Would waiting on `submit`'s future inside `loop` make its runs go one at a time (PFL103)?
    Not in `while` loops (polling), loops that can stop early, or loops whose next submit uses
    a value the body computed (each step needs the last)."""
    if isinstance(loop, cst.While):
        return False
    if isinstance(loop, cst.For):
        assigned, stops = _loop_body_facts(loop)
        if stops or names_in(submit) & assigned:
            return False
    return True


def _loop_body_facts(loop: cst.For) -> tuple[set[str], bool]:
    """Names the loop body assigns, and whether it can leave the loop early."""
    assigned = _target_names(loop.target)
    stops = False
    # (node, inside a nested loop): a `break` there leaves only the nested loop.
    stack: list[tuple[cst.CSTNode, bool]] = [(loop.body, False)]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not nested):
            stops = True
        elif isinstance(
            node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.For)
        ):
            assigned |= _target_names(node.target)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        inner = nested or isinstance(node, (cst.For, cst.While))
        stack.extend((child, inner) for child in child_nodes(node))
    # The loop's own target changes every iteration by design; it is not a dependency.
    return assigned - _target_names(loop.target), stops


def _is_string_format(expr: cst.BinaryOperation) -> bool:
    return isinstance(expr.operator, cst.Modulo) and isinstance(expr.left, _STRING_LITERALS)


def _iterated(container: Container) -> set[Obj]:
    """What iterating a container yields."""
    if container.view is not None:
        base, which = container.view
        if which == "values":
            return set(base.members)
        if which == "keys":
            return set(base.keys)
        if which == "items":
            return set(container.members)  # the pair
        return base.keys | base.members  # iterating a pair
    return set(container.keys) if container.is_dict else set(container.members)


def _subscripted(container: Container) -> set[Obj]:
    """What `container[...]` may give: a dict's values, a sequence's elements."""
    if container.view is not None and container.view[1] == "pair":
        base = container.view[0]
        return base.keys | base.members
    return set(container.members)


def _parts(obj: Obj) -> tuple[frozenset[Obj], ...] | None:
    """What each position of a tuple holds, when known: a literal, or a `d.items()` pair."""
    if not isinstance(obj, Container):
        return None
    if obj.view is not None and obj.view[1] == "pair":
        base = obj.view[0]
        return frozenset(base.keys) or frozenset({OTHER}), frozenset(base.members) or frozenset(
            {OTHER}
        )
    return obj.parts


def returns_states(call: cst.Call) -> bool | None:
    """Does a task call pass `return_state=True`? None when the flag cannot be read."""
    flag = keyword_arg(call, "return_state")
    if flag is None:
        return False if not any(arg.star == "**" for arg in call.args) else None
    value = flag.value
    if isinstance(value, cst.Name) and value.value in ("True", "False", "None"):
        return value.value == "True"
    if isinstance(value, cst.Integer):
        return value.evaluated_value != 0
    return None


def _is_single_future(obj: object) -> bool:
    return isinstance(obj, Element) or (isinstance(obj, Site) and not obj.is_list)


def _is_collection_obj(obj: Obj) -> bool:
    return isinstance(obj, Container) or (isinstance(obj, Site) and obj.is_list)


def _target_names(target: cst.CSTNode) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return set().union(*(_target_names(e.value) for e in target.elements))
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return set()


def _expression_children(expr: cst.CSTNode) -> list[cst.BaseExpression]:
    children = child_nodes(expr)
    return [c for c in children if isinstance(c, cst.BaseExpression)] + [
        grand
        for c in children
        if not isinstance(c, cst.BaseExpression)
        for grand in child_nodes(c)
        if isinstance(grand, cst.BaseExpression)
    ]


def analyze_function(
    model: ModuleModel,
    function: cst.FunctionDef,
    flow: Flow | None,
    scope: Scope,
    module: cst.Module,
) -> FlowFacts:
    return FlowAnalyzer(model, function, flow, scope, module).analyze()
