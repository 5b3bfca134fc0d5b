"""Which Prefect version a project runs: `target-version`, else its dependency pins, else the
code's own evidence.

The target is the lowest version a pin allows (`prefect>=3.4,<4` -> 3.4; `prefect==2.19.1` ->
2.19). Without a pin, code that uses names only Prefect 2 has (the migration table's evidence
rows: `prefect.deployments.Deployment`, `prefect.infrastructure`, ...) makes the project a 2.x
project (docs/prefect-semantics.md#prefect-2-only-names). Nothing at all means "the latest
3.x".
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from prefect_lint.model.evidence import Evidence, evidence_in_text, project_evidence
from prefect_lint.versions import LATEST_3X, PrefectVersion, parse_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# `prefect` itself (not `prefect-aws` or `prefect_dask`), with its first lower-bound clause.
_REQUIREMENT = re.compile(
    r"""^\s*prefect\s*(?:\[[^\]]*\]\s*)?(?P<spec>(?:[=~<>!]=?|===)[^;#]*)?(?:[;#].*)?$""",
    re.IGNORECASE,
)
_PIN_LIST = re.compile(r"requirements.*\.(txt|in)$")
_CLAUSE = re.compile(r"(===|==|~=|>=|>|<=|<|!=)\s*v?(\d+(?:\.\d+){0,2})")


@dataclass(frozen=True)
class Target:
    version: str | None  # "3.4", "2" (some 2.x), or None for "latest 3.x"
    source: str  # where it came from, for --show-settings
    # Uses of 2.x-only names that decided (or, with a 3.x pin, contradict) the target.
    evidence: tuple[Evidence, ...] = ()
    # True when nothing decided it: the code's own text may still show it is 2.x code.
    default: bool = False

    @property
    def prefect_version(self) -> PrefectVersion:
        return LATEST_3X if self.version is None else parse_version(self.version)

    @property
    def major(self) -> int:
        return self.prefect_version[0]

    def describe(self) -> str:
        if self.version is None:
            return "latest 3.x"
        return "2.x" if self.version == "2" else self.version


LATEST = Target(None, "default: latest 3.x", default=True)


def _from_evidence(evidence: list[Evidence], where: str) -> Target:
    first = evidence[0]
    return Target(
        "2",
        f"Prefect 2 code {where}: {first.path}:{first.line} uses `{first.name}`",
        tuple(evidence),
    )


def with_text_evidence(target: Target, text: str, path: str) -> Target:
    """`target`, or Prefect 2 if nothing decided it and `text` (an editor buffer, stdin) uses
    2.x-only names. Files on disk were already scanned with their project."""
    if not target.default:
        return target
    evidence = evidence_in_text(text, path)
    return _from_evidence(evidence, "in this file") if evidence else target


def conflict(target: Target, root: str) -> list[Evidence]:
    """Uses of 2.x-only names in a project whose pin or setting says 3.x (PFL301 reports
    them; `--show-settings` lists them)."""
    if target.major < 3 or target.default:
        return []
    return project_evidence(root)


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


def pin_files(root: str) -> list[str]:
    """The files at `root` that may pin prefect, in the order their pins count (those that
    exist): pyproject.toml, requirements*.txt / requirements*.in, setup.cfg."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        names = []
    ordered = ["pyproject.toml", *(n for n in names if _PIN_LIST.match(n)), "setup.cfg"]
    return [path for path in (os.path.join(root, n) for n in ordered) if os.path.isfile(path)]


def detect_target(root: str, configured: str | None) -> Target:
    """The target of the project at `root` (a setting wins, then pins, then the code)."""
    if configured:
        return Target(configured, "target-version setting")
    for path in pin_files(root):
        reader = _from_pyproject if os.path.basename(path) == "pyproject.toml" else _from_lines
        found = reader(path)
        if isinstance(found, str):
            return Target(found, f"{path} (prefect pin)")
        if found is None:
            # `prefect` or `prefect<4`: no lower bound, so either generation may be meant.
            unbounded = f"{path} names prefect without a lower bound"
            break
    else:
        unbounded = "no prefect pin"
    evidence = project_evidence(root)
    if evidence:
        return _from_evidence(evidence, "in the project")
    return Target(None, f"{unbounded} and no Prefect 2 code found: latest 3.x", default=True)
