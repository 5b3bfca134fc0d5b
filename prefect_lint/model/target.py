"""Which Prefect version a project runs: `target-version`, else its dependency pins.

The target is the lowest version a pin allows (`prefect>=3.4,<4` -> 3.4; `prefect==2.19.1` ->
2.19). Anything that cannot be read means "the latest 3.x", which keeps every rule on.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# `prefect` itself (not `prefect-aws` or `prefect_dask`), with its first lower-bound clause.
_REQUIREMENT = re.compile(
    r"""^\s*prefect\s*(?:\[[^\]]*\]\s*)?(?P<spec>(?:[=~<>!]=?|===)[^;#]*)?(?:[;#].*)?$""",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"(===|==|~=|>=|>|<=|<|!=)\s*v?(\d+(?:\.\d+){0,2})")


@dataclass(frozen=True)
class Target:
    version: str | None  # "3.4", or None for "latest 3.x"
    source: str  # where it came from, for --show-settings

    @property
    def major(self) -> int:
        if self.version is None:
            return 3
        return int(self.version.split(".", 1)[0])


LATEST = Target(None, "default: latest 3.x")


def _lowest_allowed(spec: str) -> str | None:
    clauses = _CLAUSE.findall(spec)
    for operator, version in clauses:
        if operator in ("==", "===", "~=", ">=", ">"):
            return ".".join(version.split(".")[:2])
    for operator, version in clauses:
        # `prefect<3` (or `<3.0`, `<=2.20`): some 2.x release.
        parts = [int(p) for p in version.split(".")]
        if operator == "<" and parts[0] == 3 and not any(parts[1:]):
            return "2"
        if operator == "<=" and parts[0] == 2:
            return "2"
    return None


def version_from_requirement(requirement: str) -> str | bool | None:
    """The target of one requirement string; False if it is not about `prefect`."""
    match = _REQUIREMENT.match(requirement.strip())
    if match is None:
        return False
    spec = match.group("spec") or ""
    return _lowest_allowed(spec)


def _first_pin(requirements: list[str]) -> str | bool | None:
    for requirement in requirements:
        if isinstance(requirement, str):
            found = version_from_requirement(requirement)
            if found is not False:
                return found
    return False


def _from_pyproject(path: str) -> str | bool | None:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    lists: list[list[str]] = [data.get("project", {}).get("dependencies", [])]
    lists += list(data.get("project", {}).get("optional-dependencies", {}).values())
    lists += list(data.get("dependency-groups", {}).values())  # uv / PEP 735
    for requirements in lists:
        if isinstance(requirements, list):
            found = _first_pin(requirements)
            if found is not False:
                return found
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    if isinstance(poetry, dict) and "prefect" in poetry:
        spec = poetry["prefect"]
        spec = spec.get("version", "") if isinstance(spec, dict) else str(spec)
        if spec.startswith("^"):
            spec = ">=" + spec[1:]
        return _lowest_allowed(spec if any(c in spec for c in "<>=~") else f"=={spec}")
    return False


def _from_lines(path: str) -> str | bool | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return _first_pin([line for line in handle if not line.lstrip().startswith("#")])
    except OSError:
        return False


def detect_target(root: str, configured: str | None) -> Target:
    if configured:
        return Target(configured, "target-version setting")
    candidates: list[tuple[str, object]] = [("pyproject.toml", _from_pyproject)]
    try:
        names = sorted(os.listdir(root))
    except OSError:
        names = []
    candidates += [(n, _from_lines) for n in names if re.match(r"requirements.*\.(txt|in)$", n)]
    candidates.append(("setup.cfg", _from_lines))
    for name, reader in candidates:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            found = reader(path)  # type: ignore[operator]
            if found is not False:
                return Target(found, f"{path} (prefect pin)")  # type: ignore[arg-type]
    return Target(None, "no prefect pin found: latest 3.x")
