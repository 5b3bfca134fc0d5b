"""What the futures analysis finds, as plain records the rules read.

The objects a function's variables may hold (`Site`: a `.submit()` / `.map()` call site,
`Element`, `Container`, `DirectValue`, `OTHER`) and the facts recorded about them
(`FunctionFacts`). The analyzer that produces them is `prefect_lint.model.futures`; a rule
imports this module only, and decides itself which facts make a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeGuard

import libcst as cst

from prefect_lint.model.module import keyword_arg
from prefect_lint.model.persistent import PMap, PSet
from prefect_lint.model.values import Flow, Task


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
            if not is_single_future(obj):
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
        self._future_use_set: set[cst.CSTNode] = set()  # the same nodes, to look up
        self.other_uses = 0
        # Handed to code we cannot see (`asyncio.run(task())` runs an async task's coroutine).
        self.escaped = False

    def use_as_future(self, node: cst.CSTNode) -> None:
        if not self.returns_state and node not in self._future_use_set:
            self._future_use_set.add(node)
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
    # What each variable may hold here, and the variables that may be unassigned: the
    # analysis state itself (persistent, so keeping it costs nothing).
    env: PMap[str, frozenset[Obj]]
    undefined: PSet[str]

    @property
    def raises(self) -> bool:
        return isinstance(self.statement, cst.Raise)

    @cached_property
    def names(self) -> dict[str, frozenset[Obj]]:
        """Names that definitely hold only futures/containers here, with what they hold
        (worked out when a rule asks: it walks every variable)."""
        return {
            name: objs
            for name, objs in self.env.items()
            if name not in self.undefined
            and objs
            and all(isinstance(o, (Site, Container)) for o in objs)
        }


@dataclass
class FutureWait:
    """An explicit wait on a future the analysis follows: `.result()` / `.wait()` on it, or
    the future (or a member of a collection of them) given to `wait(...)` /
    `as_completed(...)`; once per call and future, in the order the analysis met them."""

    use: cst.Call  # the `.result()` / `.wait()` / `wait(...)` call
    future: Site | Element
    # The loops (for statements and comprehensions) around the call, outermost first.
    loops: tuple[cst.CSTNode, ...]


@dataclass
class WaitCall:
    """A `wait(...)` / `as_completed(...)` call with a positional argument: what it may hold."""

    call: cst.Call
    arg: cst.Arg  # the first positional argument
    held: frozenset[Obj]


@dataclass
class ValueUse:
    """A future used as the value it will hold: subscripted, an attribute read that futures
    do not have, or iterated. It fails right there (a TypeError or AttributeError)."""

    node: cst.CSTNode  # the subscript / attribute / iteration
    future_expr: cst.BaseExpression
    future: Site | Element
    # The loops (for statements and comprehensions) around the use, outermost first.
    loops: tuple[cst.CSTNode, ...]


@dataclass
class FunctionFacts:
    """What the analysis found in one function: a flow, a task or a plain helper (`flow` is
    None for the last two)."""

    function: cst.FunctionDef
    flow: Flow | None
    sites: list[Site] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)
    waits: list[FutureWait] = field(default_factory=list)
    direct_values: list[DirectValue] = field(default_factory=list)
    value_uses: list[ValueUse] = field(default_factory=list)
    wait_calls: list[WaitCall] = field(default_factory=list)
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


def is_single_future(obj: object) -> TypeGuard[Site | Element]:
    """A future of one run: a `.submit()` site, or an element of a `.map()` list."""
    return isinstance(obj, Element) or (isinstance(obj, Site) and not obj.is_list)


def is_collection(obj: Obj) -> bool:
    """A collection the analysis follows: a container, or a `.map()` list."""
    return isinstance(obj, Container) or (isinstance(obj, Site) and obj.is_list)


def target_names(target: cst.CSTNode) -> set[str]:
    """The names an assignment or `for` target binds."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return set().union(*(target_names(e.value) for e in target.elements))
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()
