"""Where each future of a flow goes: created, consumed, resolved, escaped.

The facts: docs/prefect-semantics.md#unwaited-futures-are-abandoned,
docs/prefect-semantics.md#what-waits-for-a-future and
docs/prefect-semantics.md#return-state-is-a-state.

One abstract interpretation of a flow's body over its statements. Every `.submit()` / `.map()`
call site is one abstract future; variables map to the sets of objects they may hold. What
runs on a path is tracked so that early returns, branches and loops are seen; anything the
analysis does not understand makes the futures involved *escape*, and escaped futures are
never reported (precision first).

The result is a `FunctionFacts` record (`prefect_lint.model.future_facts`): what happened to
each future, where it was waited on, used as a value or left pending. The PFL1xx rules decide
from those facts what to report; no rule walks a flow body itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from prefect_lint.model import api
from prefect_lint.model.boundary import single_assignment
from prefect_lint.model.future_facts import (
    OTHER,
    Container,
    DirectValue,
    Element,
    Exit,
    FunctionFacts,
    FutureWait,
    Obj,
    Site,
    ValueUse,
    WaitCall,
    is_collection,
    is_single_future,
    returns_states,
    target_names,
)
from prefect_lint.model.future_names import (
    FUTURE_API,
    LOGGING_METHODS,
    NEUTRAL_BUILTINS,
    TRANSPARENT_BUILTINS,
)
from prefect_lint.model.module import ModuleModel, keyword_arg, positional_args
from prefect_lint.model.persistent import PMap, PSet
from prefect_lint.model.scopes import Scope, names_in, parameters, pattern_names
from prefect_lint.model.values import Dotted, Flow, Task
from prefect_lint.tree import child_nodes

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
_TRANSPARENT_PREFECT = frozenset({"prefect.unmapped", "prefect.allow_failure"})
_CONTAINER_ADD = frozenset({"append", "extend", "insert", "add", "update", "setdefault"})
_CONTAINER_VIEW = frozenset({"copy", "pop", "popleft", "__iter__"})
_DICT_VIEWS = frozenset({"values", "keys", "items"})
_MAX_LOOP_PASSES = 4


# -- abstract state --------------------------------------------------------------------------


class State:
    """Variables -> what they may hold, pending futures, names that may be unassigned.

    All three are persistent (`model/persistent.py`): forking a state at a branch costs
    nothing, and joining two forks costs what they changed, not the size of the flow.
    `undefined` holds the names of `env` not assigned on every path.
    """

    __slots__ = ("env", "pending", "undefined")

    def __init__(
        self,
        env: PMap[str, frozenset[Obj]],
        pending: PSet[Site],
        undefined: PSet[str] | None = None,
    ) -> None:
        self.env = env
        self.pending = pending
        self.undefined = undefined if undefined is not None else PSet()

    def __eq__(self, other: object) -> bool:
        # What a loop's fixpoint compares: the same contents, however they are represented.
        return (
            isinstance(other, State)
            and self.env == other.env
            and self.pending == other.pending
            and self.undefined == other.undefined
        )

    __hash__ = None  # type: ignore[assignment]  # compared by contents, never a dict key

    def is_defined(self, name: str) -> bool:
        return name in self.env and name not in self.undefined

    def set(self, name: str, objs: frozenset[Obj], *, defined: bool = True) -> None:
        self.env = self.env.set(name, objs)
        if defined:
            self.undefined = self.undefined.discard(name)
        else:
            self.undefined = self.undefined.add(name)

    def remove(self, name: str) -> None:
        self.env = self.env.delete(name)
        self.undefined = self.undefined.discard(name)

    def copy(self) -> State:
        """A fork: the two share everything until either changes."""
        return State(self.env, self.pending, self.undefined)


def join(a: State | None, b: State | None) -> State | None:
    """What holds after either of two paths: each name may hold what it holds on either;
    a name assigned on one path only may be unassigned."""
    if a is None:
        return b.copy() if b is not None else None
    if b is None:
        return a.copy()
    env, undefined = a.env, a.undefined.union(b.undefined)
    for name in a.env.differing(b.env):
        held_a, held_b = a.env.get(name), b.env.get(name)
        if (held_a is None) != (held_b is None):
            undefined = undefined.add(name)  # assigned on one path only
        if held_b is not None:
            env = env.set(name, held_b if held_a is None else held_a | held_b)
    return State(env, a.pending.union(b.pending), undefined)


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
    """Interprets one flow body; `analyze()` returns its `FunctionFacts`."""

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
        self.facts = FunctionFacts(function, flow)
        self.loops: list[cst.CSTNode] = []
        self.loop_frames: list[_LoopFrame] = []
        self.state: State | None = None
        self._sites: dict[int, Site] = {}
        self._containers: dict[int, Container] = {}
        self._directs: dict[int, DirectValue] = {}
        # (call, future) pairs already recorded as waits (a loop's body runs several passes).
        self._waits_seen: set[tuple[int, int]] = set()
        # `.result()` / `.wait()` calls (by id) made on a known future.
        self._future_calls: set[int] = set()
        self.outer_names: set[str] = set()
        # Futures whose `.state` a `while` condition reads (innermost loop last).
        self._state_reads: list[set[Site]] = []
        # How many `try` bodies (or `with` blocks, which may suppress) enclose this point.
        self._guards = 0

    # -- driver ---------------------------------------------------------------------------

    def analyze(self) -> FunctionFacts:
        function = self.facts.function
        params = frozenset(p.name.value for p in parameters(function.params))
        self.state = State(PMap((name, frozenset({OTHER})) for name in params), PSet())
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
        statements: Sequence[cst.BaseStatement]
        if isinstance(body, cst.IndentedBlock):
            statements = body.body
        else:
            assert not isinstance(body, cst.BaseSuite)  # a one-line suite was handled above
            statements = body
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
        if not held or not all(is_single_future(o) for o in held):
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
            augmented = small.target
            if isinstance(augmented, cst.Name) and self.state is not None:
                held = self.state.env.get(augmented.value, frozenset())
                containers = [o for o in held if isinstance(o, Container)]
                if containers and isinstance(small.operator, cst.AddAssign):
                    for container in containers:
                        container.add(self.members(objs))
                    return
                self.escape(objs)
                self.assign(augmented, frozenset({OTHER}))
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
            for deleted in [element.value for element in targets] or [small.target]:
                if isinstance(deleted, cst.Name):
                    self.assign(deleted, frozenset())
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            # Whatever these names receive outlives the flow's frame: it escapes.
            self.outer_names |= {name.name.value for name in small.names}
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            names = small.names if not isinstance(small.names, cst.ImportStar) else ()
            for alias in names:
                bound: cst.BaseExpression = (
                    alias.asname.name if alias.asname is not None else alias.name
                )
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
            body_pending = outcome.body_end.pending
            handled = [s for s in self.futures_in(elements) if s not in body_pending]
            outcome.exit.pending = outcome.exit.pending.discard_all(handled)
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
            outcome.exit.pending = outcome.exit.pending.discard_all(polled)
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
                    self.assign(element.value, self._objs_of_element(source))
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
            for element, position_objs in zip(elements, held, strict=True):
                inner = element.value
                if isinstance(inner, cst.StarredElement):
                    inner = inner.value
                self.assign(inner, frozenset(position_objs) or frozenset({OTHER}))
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, objs)
        elif isinstance(target, cst.Subscript):
            keys: set[Obj] = set()
            for subscript in target.slice:
                if isinstance(subscript.slice, cst.Index):
                    keys |= self.eval(subscript.slice.value)
            receivers = self.eval(target.value)
            containers = [o for o in receivers if isinstance(o, Container)]
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
            if is_collection(obj):
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
        state.pending = state.pending.discard_all(done)

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
            state.pending = state.pending.discard_all(upstream)

    def escape_captured(self, node: cst.CSTNode) -> None:
        if self.state is None:
            return
        for name in names_in(node):
            if name in self.state.env:
                self.escape(self.state.env[name])

    def future_as_value(
        self, node: cst.CSTNode, future_expr: cst.BaseExpression, future: Site | Element
    ) -> None:
        """A future used as its value (a fact for PFL108). It fails right there, so PFL102
        need not report it too: the future counts as handled."""
        self.facts.value_uses.append(ValueUse(node, future_expr, future, tuple(self.loops)))
        self.escape([future])

    def iterate(self, objs: frozenset[Obj], expr: cst.BaseExpression) -> frozenset[Obj]:
        """Bindings of a loop variable over `objs`; flags iterating a single future (PFL108)."""
        for obj in objs:
            if is_single_future(obj):
                self.future_as_value(expr, expr, obj)
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
            for subscript in expr.slice:
                if isinstance(subscript.slice, cst.Index):
                    self.eval(subscript.slice.value)
            out: set[Obj] = set()
            for obj in held:
                if isinstance(obj, Container):
                    # A dict's values, a list's or tuple's elements.
                    out |= _subscripted(obj)
                elif isinstance(obj, Site) and obj.is_list:
                    out |= self.members([obj])
                elif isinstance(obj, (Site, Element)):
                    self.future_as_value(expr, expr.value, obj)
                    out.add(OTHER)
                else:
                    self._plain_use(obj)
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
            for entry in expr.elements:
                if isinstance(entry, cst.DictElement):
                    container.keys |= self.eval(entry.key) - {OTHER}
                    container.add(self.eval(entry.value))
                elif isinstance(entry, cst.StarredDictElement):
                    self._merge_dict(container, self.eval(entry.value))
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
            if any(is_collection(o) for o in left | right):
                # `futures + [future]`: a new list holding both sides' elements.
                container = self._container(expr)
                container.add(self.members(left | right))
                return frozenset({container})
            for obj in left | right:
                self._plain_use(obj)
            return frozenset({OTHER})
        if isinstance(expr, (cst.BinaryOperation, cst.Comparison, cst.UnaryOperation)):
            for child in _expression_children(expr):
                objs = self.eval(child)
                for obj in objs:
                    self._plain_use(obj)
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

    def _plain_use(self, obj: Obj) -> None:
        """`obj` is read as a plain value (an operand, a formatted argument): a direct call's
        value used so is not a misused future."""
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
        saved_env, saved_undefined = state.env, state.undefined
        targets: set[str] = set()
        comp_for: cst.CompFor | None = expr.for_in
        while comp_for is not None:
            targets |= target_names(comp_for.target)
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
                    self.future_as_value(expr, expr.value, obj)
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
            if func.value in NEUTRAL_BUILTINS and not self.model.is_bound(func.value, self.scope):
                return self._read_only_call(call)
            if func.value in TRANSPARENT_BUILTINS and not self.model.is_bound(
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
                self._plain_use(obj)
        return frozenset({OTHER})

    def _formats_only(self, func: cst.BaseExpression) -> bool:
        """String methods on a literal (`", ".join(...)`, `"{}".format(...)`) and logging calls
        (`logger.info(...)`, `logging.warning(...)`): they format futures, never resolve them."""
        if not isinstance(func, cst.Attribute):
            return False
        receiver = func.value
        if isinstance(receiver, _STRING_LITERALS):
            return True
        if func.attr.value not in LOGGING_METHODS:
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
                    self._record_wait(call, obj)
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
                    self.future_as_value(func, func.value, obj)
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
            state.pending = state.pending.add(site)
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
        self.facts.wait_calls.append(WaitCall(call, args[0], first))
        for obj in first | frozenset(self.members(first)):
            if isinstance(obj, (Site, Element)):
                self._record_wait(call, obj)
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

    def _record_wait(self, use: cst.Call, future: Site | Element) -> None:
        key = (id(use), id(future))
        if key not in self._waits_seen:
            # The record keeps `future` alive, so its id is not reused while the key is held.
            self._waits_seen.add(key)
            self.facts.waits.append(FutureWait(use, future, tuple(self.loops)))

    # -- exits ----------------------------------------------------------------------------------

    def _record_exit(self, statement: cst.CSTNode | None, suite: cst.CSTNode | None) -> None:
        state = self.state
        if state is None:
            return
        self.facts.exits.append(
            Exit(statement, suite, frozenset(state.pending), state.env, state.undefined)
        )


# -- helpers ---------------------------------------------------------------------------------


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
) -> FunctionFacts:
    return FlowAnalyzer(model, function, flow, scope, module).analyze()
