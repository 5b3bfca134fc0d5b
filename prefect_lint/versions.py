"""Prefect versions as the rules and the engine compare them.

A version here is `(major, minor)`: what a rule is true for changes between minor releases
(`schedule=` failed on 3.0-3.1 only), never between patches that matter to a rule's claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PrefectVersion = tuple[int, int]

# "Some 2.x release": the last 2.x minor (2.20, checked on a real 2.20.17 install). Code that
# only shows it was written for Prefect 2 is treated as running the final 2.x release.
LAST_2X: PrefectVersion = (2, 20)
# "The latest 3.x": newer than any release a rule names, so open-ended ranges include it and
# ranges that end at a 3.x minor do not.
LATEST_3X: PrefectVersion = (3, 10_000)

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.\d+)?$")


def parse_version(text: str) -> PrefectVersion:
    """`"3.4"`, `"3.4.14"`, `"2"` -> `(3, 4)`, `(3, 4)`, `LAST_2X`; ValueError otherwise."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"not a Prefect version: {text!r} (expected something like 3.4)")
    major = int(match.group(1))
    if match.group(2) is None:
        return LAST_2X if major == 2 else (major, 0)
    return (major, int(match.group(2)))


def _label(version: PrefectVersion) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class VersionRange:
    """The Prefect releases a claim is true for: `since` included, `before` excluded."""

    since: PrefectVersion | None = None
    before: PrefectVersion | None = None

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, tuple):
            return False
        if self.since is not None and version < self.since:
            return False
        return not (self.before is not None and version >= self.before)

    def describe(self) -> str:
        """Human words for the docs' Versions section and `--show-settings`."""
        if self.since is None and self.before is None:
            return "every Prefect release"
        if self.since is None:
            assert self.before is not None
            if self.before == (3, 0):
                return "Prefect 2.x"
            return f"Prefect releases before {_label(self.before)}"
        if self.before is None:
            return f"Prefect {_label(self.since)} and later"
        if self.before[1] == 0:
            return f"Prefect {_label(self.since)} up to {self.before[0]}.0 (not included)"
        last = (self.before[0], self.before[1] - 1)
        if last == self.since:
            return f"Prefect {_label(self.since)} only"
        return f"Prefect {_label(self.since)} to {_label(last)}"


ALL_VERSIONS = VersionRange()
PREFECT_2 = VersionRange(before=(3, 0))
PREFECT_3 = VersionRange(since=(3, 0))


def since(version: str) -> VersionRange:
    return VersionRange(since=parse_version(version))
