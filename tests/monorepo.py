"""A monorepo whose packages configure prefect-lint differently (shared by the CLI, flake8
and language-server tests): each file must get the configuration nearest to it."""

from __future__ import annotations

from pathlib import Path

# PFL105 (wait imported from `prefect`), PFL102 (an unwaited submit), PFL101 (a flow submitted).
CODE = """\
from prefect import flow, task, wait


@task
def double(n: int) -> int:
    return n * 2


@flow
def child(n: int) -> int:
    return n


@flow
def parent() -> None:
    wait([double.submit(1)])
    double.submit(2)
    child.submit(1).result()
"""

ROOT_CONFIG = """\
[project]
name = "mono"

[tool.prefect-lint]
ignore = ["PFL105"]
extend-exclude = ["sub/generated/"]
"""
# Adds to the root's `ignore`; the root's anchored exclude applies inside it re-anchored.
SUB_CONFIG = """\
[project]
name = "sub"

[tool.prefect-lint]
extend = "../pyproject.toml"
ignore = ["PFL101"]
"""
# A dedicated file (top-level keys): this service still runs Prefect 2, where flows wait for
# their futures (no PFL102) and `from prefect import wait` is fine.
SVC_CONFIG = """\
extend = "../pyproject.toml"
target-version = "2.19"
"""

# What `prefect-lint check` reports per file, wherever it is run from.
EXPECTED = {
    "app.py": ["PFL102", "PFL101"],
    "plain/d.py": ["PFL102", "PFL101"],
    "sub/b.py": ["PFL102"],
    "svc/c.py": ["PFL101"],
}
# flake8 selects codes itself; the plugin reads only `target-version` and the wrappers.
EXPECTED_FLAKE8 = {
    "app.py": ["PFL105", "PFL102", "PFL101"],
    "sub/b.py": ["PFL105", "PFL102", "PFL101"],
    "svc/c.py": ["PFL101"],
}


def build_monorepo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(ROOT_CONFIG)
    for directory in ("plain", "sub/generated", "svc"):
        (root / directory).mkdir(parents=True)
    (root / "sub" / "pyproject.toml").write_text(SUB_CONFIG)
    (root / "svc" / ".prefect-lint.toml").write_text(SVC_CONFIG)
    for name in (*EXPECTED, "sub/generated/gen.py"):
        (root / name).write_text(CODE)
    return root
