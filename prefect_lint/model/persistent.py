"""A persistent (immutable, structurally shared) hash map and set for the futures analysis.

The analysis forks its state at every branch and joins the forks after it. With plain dicts
each fork copies every variable of the flow, and each join compares them all: quadratic in
the length of a flow. Here a fork is free, a change copies one path of a 32-way hash trie
(a few short lists), and two maps that share most of their trie are compared by walking
only the parts that differ.

A trie node is a list of 32 slots; a slot is empty (None), one entry (a `(key, value)`
tuple), a child node (a list), or, once all bits of the hash are used, a dict of the
entries whose hashes are equal. A list, once reachable from a map, is never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_WIDTH = 32
_STEP = 5
# The deepest shift that still reads fresh hash bits (64-bit hashes); below it, dicts.
_LAST_SHIFT = 60
_MISSING: Any = object()

# A slot of a trie node: None, a (key, value) tuple, a child node (list) or a dict bucket.
_Slot = Any
_Node = list[_Slot]


def _empty_node() -> _Node:
    return [None] * _WIDTH


def _with_entry(node: _Node, shift: int, digest: int, key: object, value: object) -> _Node:
    new = node.copy()
    index = (digest >> shift) & (_WIDTH - 1)
    slot = node[index]
    if slot is None:
        new[index] = (key, value)
    elif type(slot) is tuple:
        if slot[0] == key:
            new[index] = (key, value)
        else:
            new[index] = _split(slot, hash(slot[0]), shift + _STEP, key, value, digest)
    elif type(slot) is dict:
        bucket = dict(slot)
        bucket[key] = value
        new[index] = bucket
    else:
        new[index] = _with_entry(slot, shift + _STEP, digest, key, value)
    return new


def _split(
    entry: tuple[object, object],
    entry_digest: int,
    shift: int,
    key: object,
    value: object,
    digest: int,
) -> _Slot:
    """A slot holding `entry` and `key: value`, whose hashes agree below `shift`."""
    if shift > _LAST_SHIFT:
        return {entry[0]: entry[1], key: value}
    node = _empty_node()
    old_index = (entry_digest >> shift) & (_WIDTH - 1)
    new_index = (digest >> shift) & (_WIDTH - 1)
    if old_index != new_index:
        node[old_index] = entry
        node[new_index] = (key, value)
    else:
        node[old_index] = _split(entry, entry_digest, shift + _STEP, key, value, digest)
    return node


def _without(node: _Node, shift: int, digest: int, key: object) -> _Node:
    """`node` without `key`; `node` itself when the key is not there."""
    index = (digest >> shift) & (_WIDTH - 1)
    slot = node[index]
    if slot is None:
        return node
    if type(slot) is tuple:
        if slot[0] != key:
            return node
        replacement: _Slot = None
    elif type(slot) is dict:
        if key not in slot:
            return node
        replacement = {k: v for k, v in slot.items() if k != key} or None
    else:
        replacement = _without(slot, shift + _STEP, digest, key)
        if replacement is slot:
            return node
    new = node.copy()
    new[index] = replacement
    return new


def _entries(slot: _Slot) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) under a slot."""
    stack: list[_Slot] = [slot]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if type(current) is tuple:
            yield current
        elif type(current) is dict:
            yield from current.items()
        else:
            stack.extend(current)


def _differing(a: _Slot, b: _Slot) -> Iterator[Any]:
    """Keys present in one of two slots only, or with values that are not equal."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if type(x) is list and type(y) is list:
            for cx, cy in zip(x, y, strict=True):
                if cx is not cy:
                    stack.append((cx, cy))
            continue
        xs, ys = dict(_entries(x)), dict(_entries(y))
        for key, value in xs.items():
            other = ys.get(key, _MISSING)
            if other is _MISSING or (other is not value and other != value):
                yield key
        for key in ys:
            if key not in xs:
                yield key


class PMap(Generic[K, V]):
    """An immutable mapping; `set` and `delete` return a new map sharing the old one's trie."""

    __slots__ = ("_root",)

    def __init__(self, items: Iterable[tuple[K, V]] = ()) -> None:
        root = _empty_node()
        for key, value in items:
            root = _with_entry(root, 0, hash(key), key, value)
        self._root = root

    @classmethod
    def _of(cls, root: _Node) -> PMap[K, V]:
        new: PMap[K, V] = cls.__new__(cls)
        new._root = root
        return new

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        return self._get(key, default)

    def _get(self, key: object, default: Any) -> Any:
        digest = hash(key)
        node = self._root
        shift = 0
        while True:
            slot = node[(digest >> shift) & (_WIDTH - 1)]
            if slot is None:
                return default
            if type(slot) is tuple:
                return slot[1] if slot[0] == key else default
            if type(slot) is dict:
                return slot.get(key, default)
            node = slot
            shift += _STEP

    def __getitem__(self, key: K) -> V:
        value: V = self._get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self._get(key, _MISSING) is not _MISSING

    def set(self, key: K, value: V) -> PMap[K, V]:
        return PMap._of(_with_entry(self._root, 0, hash(key), key, value))

    def delete(self, key: K) -> PMap[K, V]:
        root = _without(self._root, 0, hash(key), key)
        return self if root is self._root else PMap._of(root)

    def items(self) -> Iterator[tuple[K, V]]:
        return _entries(self._root)

    def keys(self) -> Iterator[K]:
        return (key for key, _ in _entries(self._root))

    def differing(self, other: PMap[K, V]) -> Iterator[K]:
        """The keys of either map that the other lacks or holds a different value for; the
        parts of the trie the two maps share are not visited."""
        return _differing(self._root, other._root)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PMap):
            return NotImplemented
        return next(_differing(self._root, other._root), _MISSING) is _MISSING

    __hash__ = None  # type: ignore[assignment]  # mutable-looking API: never a dict key


class PSet(Generic[K]):
    """An immutable set on a `PMap`; `add`, `discard` and `union` return new sets."""

    __slots__ = ("_map",)

    def __init__(self, items: Iterable[K] = ()) -> None:
        self._map: PMap[K, bool] = PMap((item, True) for item in items)

    @classmethod
    def _of(cls, members: PMap[K, bool]) -> PSet[K]:
        new: PSet[K] = cls.__new__(cls)
        new._map = members
        return new

    def __contains__(self, item: object) -> bool:
        return item in self._map

    def __iter__(self) -> Iterator[K]:
        return self._map.keys()

    def add(self, item: K) -> PSet[K]:
        return self if item in self._map else PSet._of(self._map.set(item, True))

    def discard(self, item: K) -> PSet[K]:
        members = self._map.delete(item)
        return self if members is self._map else PSet._of(members)

    def discard_all(self, items: Iterable[K]) -> PSet[K]:
        members = self._map
        for item in items:
            members = members.delete(item)
        return self if members is self._map else PSet._of(members)

    def union(self, other: PSet[K]) -> PSet[K]:
        """Both sets' members; costs what the two differ in, not what they hold."""
        members = self._map
        for item in other._map.differing(self._map):
            if item not in members:
                members = members.set(item, True)
        return self if members is self._map else PSet._of(members)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PSet):
            return NotImplemented
        return self._map == other._map

    __hash__ = None  # type: ignore[assignment]  # compared by contents, like a set
