"""The persistent map and set the futures analysis keeps its state in, against dict and set."""

from __future__ import annotations

import random

import pytest

from prefect_lint.model.persistent import PMap, PSet


class _Key:
    """A key with a chosen hash, so that hashes collide in part or in full."""

    def __init__(self, digest: int, name: int) -> None:
        self.digest, self.name = digest, name

    def __hash__(self) -> int:
        return self.digest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.name == self.name

    def __repr__(self) -> str:
        return f"_Key({self.digest}, {self.name})"


def _keys(rnd: random.Random) -> list[object]:
    names: list[object] = [f"name{i}" for i in range(rnd.randint(1, 400))]
    # Equal hashes (a dict bucket at the bottom of the trie), negative and 64-bit ones.
    colliding = [_Key(rnd.choice([1, 33, -5, 2**62 + 3]), i) for i in range(25)]
    return names + colliding


@pytest.mark.parametrize("seed", range(40))
def test_map_matches_a_dict_and_old_versions_stay_unchanged(seed: int) -> None:
    rnd = random.Random(seed)
    keys = _keys(rnd)
    expected: dict[object, int] = {}
    current: PMap[object, int] = PMap()
    versions: list[tuple[dict[object, int], PMap[object, int]]] = []
    for _ in range(600):
        key = rnd.choice(keys)
        if rnd.random() < 0.7:
            value = rnd.randint(0, 5)
            expected[key] = value
            current = current.set(key, value)
        else:
            expected.pop(key, None)
            current = current.delete(key)
        if rnd.random() < 0.05:
            versions.append((dict(expected), current))
    assert dict(current.items()) == expected
    for key in keys:
        assert (key in current) == (key in expected)
        assert current.get(key) == expected.get(key)
        if key in expected:
            assert current[key] == expected[key]
        else:
            with pytest.raises(KeyError):
                current[key]
    for old_dict, old_map in versions:
        assert dict(old_map.items()) == old_dict
        changed = {
            key
            for key in set(old_dict) | set(expected)
            if old_dict.get(key, "absent") != expected.get(key, "absent")
        }
        assert set(old_map.differing(current)) == changed
        assert set(current.differing(old_map)) == changed
        assert (old_map == current) == (old_dict == expected)


def test_maps_with_equal_contents_are_equal_however_built() -> None:
    forward: PMap[str, int] = PMap((f"k{i}", i) for i in range(500))
    backward: PMap[str, int] = PMap((f"k{i}", i) for i in reversed(range(500)))
    assert forward == backward
    assert forward.set("k1", 1) == forward
    assert forward.set("k1", 2) != forward
    # Deleting what was added leaves emptied trie nodes behind: still equal.
    assert forward.set("extra", 0).delete("extra") == forward


@pytest.mark.parametrize("seed", range(20))
def test_set_operations_match_builtin_sets(seed: int) -> None:
    rnd = random.Random(seed)
    keys = _keys(rnd)
    left, right = set(rnd.sample(keys, 30)), set(rnd.sample(keys, 30))
    p_left, p_right = PSet(left), PSet(right)
    assert set(p_left.union(p_right)) == left | right
    assert set(p_left.discard_all(right)) == left - right
    assert set(p_left.add(keys[0])) == left | {keys[0]}
    assert set(p_left.discard(keys[0])) == left - {keys[0]}
    assert (p_left == PSet(left)) and (p_left != p_right) == (left != right)
    # Unchanged by any of it.
    assert set(p_left) == left and set(p_right) == right
