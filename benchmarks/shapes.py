"""Generated single-file modules of a chosen shape and size, for the scaling budget.

Each shape grows one dimension that a linter could handle super-linearly:

- ``big_flow``: one flow whose body mixes submits, branches, loops, `try` and results;
- ``many_flows``: thousands of small flows, each leaving a future unwaited;
- ``many_tasks``: thousands of tasks, a few flows submitting them;
- ``straight_line``: one flow of plain sequential statements (a long data-flow chain);
- ``deep_branching``: one flow made of nested `if`/`else` blocks, futures in the branches.

All shapes but ``straight_line`` have findings (unwaited futures, `.submit().result()`), so
the cost of reporting (positions, excerpts, fixes) is part of what is measured.
The output is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

SHAPES = ("big_flow", "many_flows", "many_tasks", "straight_line", "deep_branching")

_HEADER = '''"""Generated module."""

from prefect import flow, task
from prefect.futures import wait


@task
def extract(n: int) -> int:
    return n


@task
def transform(x: int) -> int:
    return x * 2


@task
def load(x: int) -> None:
    print(x)

'''


def _big_flow(i: int) -> str:
    return f"""\
    a{i} = extract.submit({i})
    b{i} = transform.submit(a{i})
    if n > {i}:
        c{i} = load.submit(b{i})
    else:
        c{i} = transform.submit(a{i})
    for j{i} in range(3):
        total += transform(j{i})
    d{i} = b{i}.result()
    extract.submit(d{i})
    try:
        e{i} = transform.submit(d{i}).result()
    except ValueError:
        e{i} = 0
    total += e{i}
"""


def _many_flows(i: int) -> str:
    return f"""

@flow
def flow_{i}(n: int) -> int:
    a = extract.submit(n + {i})
    b = transform.submit(a)
    load.submit(b)
    return b.result()
"""


def _many_tasks(i: int) -> str:
    block = f"""

@task(retries=2)
def task_{i}(x: int) -> int:
    y = x + {i}
    return y * 2
"""
    if i % 20 == 19:
        names = [f"task_{k}" for k in range(i - 4, i + 1)]
        submits = "".join(f"    f{k} = {name}.submit(n)\n" for k, name in enumerate(names))
        block += f"""

@flow
def group_{i}(n: int) -> None:
{submits}    wait([f0, f1, f2, f3])
"""
    return block


def _straight_line(i: int) -> str:
    return f"""\
    x{i} = extract.submit({i})
    y{i} = transform.submit(x{i})
    z{i} = y{i}.result()
    total = total + z{i}
"""


def _deep_branching(i: int) -> str:
    return f"""\
    if n > {i}:
        p{i} = extract.submit({i})
        if n > {i + 1}:
            q{i} = transform.submit(p{i})
            if n > {i + 2}:
                r{i} = q{i}.result()
                if n > {i + 3}:
                    load.submit(r{i})
                else:
                    total += r{i}
            else:
                s{i} = transform.submit(p{i})
        else:
            p{i}.wait()
    elif n < -{i}:
        t{i} = extract.submit(-{i})
        total += t{i}.result()
    else:
        u{i} = extract.submit({i})
"""


_BODY_SHAPES: dict[str, Callable[[int], str]] = {
    "big_flow": _big_flow,
    "straight_line": _straight_line,
    "deep_branching": _deep_branching,
}
_MODULE_SHAPES: dict[str, Callable[[int], str]] = {
    "many_flows": _many_flows,
    "many_tasks": _many_tasks,
}


def _blocks(make: Callable[[int], str]) -> Iterator[str]:
    i = 0
    while True:
        yield make(i)
        i += 1


def generate(shape: str, lines: int) -> str:
    """A module of `shape` with about `lines` lines (never fewer)."""
    parts = [_HEADER]
    count = _HEADER.count("\n")
    if shape in _BODY_SHAPES:
        opening = "\n@flow\ndef pipeline(n: int) -> int:\n    total = 0\n"
        parts.append(opening)
        count += opening.count("\n") + 1
        blocks = _blocks(_BODY_SHAPES[shape])
        closing = "    return total\n"
    elif shape in _MODULE_SHAPES:
        blocks = _blocks(_MODULE_SHAPES[shape])
        closing = ""
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    while count < lines:
        block = next(blocks)
        parts.append(block)
        count += block.count("\n")
    parts.append(closing)
    return "".join(parts)


if __name__ == "__main__":
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--lines", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    options = parser.parse_args()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    for shape in options.shapes:
        for size in options.lines:
            (options.out_dir / f"{shape}_{size}.py").write_text(generate(shape, size))
