#!/usr/bin/env python3
"""Benchmark ``prefect-lint check`` against a bare ``libcst.parse_module`` loop.

In one run this script:

1. generates the synthetic Prefect corpus (``generate_corpus.py``) into a
   temporary directory, or uses ``--corpus DIR``;
2. times (a) a loop in this process that reads every file and calls
   ``libcst.parse_module`` on it, and (b) the wall time of the subprocess
   ``prefect-lint check --jobs 1 --no-cache --exit-zero --output-format concise
   CORPUS``.  Each is the best of ``--repeat`` runs; the runs of (a) and (b)
   alternate so that machine noise hits both alike;
3. prints lines, files, both times, both lines/s and the ratio
   ``check lines/s / parse lines/s`` against the budget (0.67): the full lint
   of the corpus may cost at most 1 / 0.67 = 1.5 times a bare parse of it.

Exit status: 0 (whatever the ratio) unless ``--enforce`` is given, then 1 when
the ratio is below the budget; 2 when the benchmark cannot run, e.g. when the
``prefect-lint`` command is missing or fails.  ``--parse-only`` measures (a)
only.  Needs Python >= 3.10, the standard library and libcst.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_corpus

BUDGET = 0.67
DEFAULT_REPEAT = 3
CHECK_ARGS: tuple[str, ...] = (
    "check",
    "--jobs",
    "1",
    "--no-cache",
    "--exit-zero",
    "--output-format",
    "concise",
)


class BenchmarkError(Exception):
    """The benchmark could not be run; the message says why."""


@dataclass
class Corpus:
    root: Path
    paths: list[Path]
    lines: int
    bytes: int
    generated: bool
    seed: int | None = None
    deliberate_mistakes: int | None = None


@dataclass
class Measurement:
    name: str
    runs: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.runs)

    def lines_per_second(self, lines: int) -> float:
        return lines / self.best if self.best > 0 else float("inf")


# --------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------


def collect_python_files(root: Path) -> list[Path]:
    """All ``*.py`` files under ``root``, skipping hidden and cache folders."""
    paths = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts[:-1]
        if any(part.startswith(".") or part == "__pycache__" for part in parts):
            continue
        if path.is_file():
            paths.append(path)
    return sorted(paths)


def load_corpus(root: Path, *, generated: bool, seed: int | None, mistakes: int | None) -> Corpus:
    paths = collect_python_files(root)
    if not paths:
        raise BenchmarkError(f"no *.py files under {root}")
    lines = 0
    size = 0
    for path in paths:
        data = path.read_bytes()
        lines += generate_corpus.count_lines(data)
        size += len(data)
    return Corpus(root, paths, lines, size, generated, seed, mistakes)


# --------------------------------------------------------------------------
# (a) bare parse loop
# --------------------------------------------------------------------------


def time_parse_once(paths: list[Path]) -> float:
    """Read every file and parse it with libcst; return the elapsed seconds."""
    parse_module = libcst.parse_module
    start = time.perf_counter()
    for path in paths:
        parse_module(path.read_bytes())
    return time.perf_counter() - start


# --------------------------------------------------------------------------
# (b) prefect-lint check subprocess
# --------------------------------------------------------------------------


def lint_command(corpus: Path, args: tuple[str, ...] = CHECK_ARGS) -> tuple[list[str], str]:
    """The ``prefect-lint check`` command line and a note on how it was found.

    Prefers the ``prefect-lint`` console script next to ``sys.executable``
    (the same virtualenv), else falls back to ``sys.executable -m prefect_lint``.
    """
    bin_dir = Path(sys.executable).parent  # not resolved: keep the venv's bin/
    names = ("prefect-lint.exe", "prefect-lint") if os.name == "nt" else ("prefect-lint",)
    for name in names:
        candidate = bin_dir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate), *args, str(corpus)], f"executable {candidate}"
    return (
        [sys.executable, "-m", "prefect_lint", *args, str(corpus)],
        f"no prefect-lint executable in {bin_dir}; fell back to `{sys.executable} -m prefect_lint`",
    )


def time_check_once(command: list[str], how: str) -> tuple[float, int]:
    """Run the check once; return (wall seconds, lines of output)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, check=False)
    except OSError as exc:
        raise BenchmarkError(
            f"cannot start prefect-lint: {exc}\n  command: {' '.join(command)}"
        ) from exc
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        tail = "\n".join("    " + line for line in stderr.splitlines()[-15:]) or "    (no stderr)"
        if re.search(r"No module named '?prefect_lint'?$", stderr, re.MULTILINE):
            raise BenchmarkError(
                f"the prefect-lint CLI is missing ({how}):\n{tail}\n"
                "  Install the project into this environment (e.g. `pip install -e .`),\n"
                "  or pass --parse-only to measure the parse loop alone."
            )
        raise BenchmarkError(
            f"prefect-lint check failed with exit status {proc.returncode} "
            "(with --exit-zero it should exit 0)\n"
            f"  command: {' '.join(command)}\n  stderr:\n{tail}"
        )
    output_lines = proc.stdout.count(b"\n")
    return elapsed, output_lines


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def library_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_result(
    corpus: Corpus,
    repeat: int,
    budget: float,
    parse: Measurement,
    check: Measurement | None,
    command: list[str] | None,
    check_output_lines: int | None,
    error: str | None,
) -> dict[str, Any]:
    parse_lps = parse.lines_per_second(corpus.lines)
    result: dict[str, Any] = {
        "corpus": str(corpus.root),
        "generated": corpus.generated,
        "seed": corpus.seed,
        "files": len(corpus.paths),
        "lines": corpus.lines,
        "bytes": corpus.bytes,
        "deliberate_mistakes": corpus.deliberate_mistakes,
        "repeat": repeat,
        "python": platform.python_version(),
        "libcst": library_version("libcst"),
        "parse_seconds": round(parse.best, 4),
        "parse_runs": [round(run, 4) for run in parse.runs],
        "parse_lines_per_second": round(parse_lps, 1),
        "check_command": command,
        "check_seconds": None,
        "check_runs": None,
        "check_lines_per_second": None,
        "check_output_lines": check_output_lines,
        "ratio": None,
        "budget": budget,
        "ok": None,
        "error": error,
    }
    if check is not None and check.runs:
        check_lps = check.lines_per_second(corpus.lines)
        ratio = check_lps / parse_lps
        result.update(
            check_seconds=round(check.best, 4),
            check_runs=[round(run, 4) for run in check.runs],
            check_lines_per_second=round(check_lps, 1),
            ratio=round(ratio, 4),
            ok=ratio >= budget,
        )
    return result


def print_text(result: dict[str, Any]) -> None:
    origin = (
        f"generated, seed {result['seed']}, {result['deliberate_mistakes']} deliberate mistakes"
        if result["generated"]
        else "given with --corpus"
    )
    repeat = result["repeat"]
    print(f"corpus   {result['corpus']} ({origin})")
    print(f"files    {result['files']:,}")
    print(f"lines    {result['lines']:,}")
    print(f"python   {result['python']}, libcst {result['libcst']}")
    parse_s, parse_lps = result["parse_seconds"], result["parse_lines_per_second"]
    print(
        f"parse    {parse_s:7.3f} s {parse_lps:>10,.0f} lines/s"
        f"  (libcst.parse_module loop in-process, best of {repeat})"
    )
    if result["check_seconds"] is not None:
        check_s, check_lps = result["check_seconds"], result["check_lines_per_second"]
        print(
            f"check    {check_s:7.3f} s {check_lps:>10,.0f} lines/s"
            f"  (prefect-lint check --jobs 1 --no-cache subprocess, best of {repeat}; "
            f"{result['check_output_lines']} output lines)"
        )
        verdict = "OK" if result["ok"] else "BELOW BUDGET"
        print(f"ratio {result['ratio']:.2f} (budget >= {result['budget']:.2f}): {verdict}")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def run(args: argparse.Namespace, corpus: Corpus) -> int:
    parse = Measurement("parse")
    check: Measurement | None = None if args.parse_only else Measurement("check")
    command: list[str] | None = None
    how = ""
    if check is not None:
        command, how = lint_command(corpus.root)
    output_lines: int | None = None
    error: str | None = None
    for _ in range(args.repeat):
        parse.runs.append(time_parse_once(corpus.paths))
        if check is not None and command is not None and error is None:
            try:
                elapsed, output_lines = time_check_once(command, how)
            except BenchmarkError as exc:
                error = str(exc)
            else:
                check.runs.append(elapsed)
    result = build_result(
        corpus, args.repeat, args.budget, parse, check, command, output_lines, error
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_text(result)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.enforce and result["ok"] is False:
        return 1
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare prefect-lint check throughput with a bare libcst.parse_module loop.",
    )
    parser.add_argument(
        "--corpus", type=Path, help="lint this directory instead of generating a corpus"
    )
    parser.add_argument(
        "--files",
        type=int,
        default=generate_corpus.DEFAULT_FILES,
        help=f"files to generate (default {generate_corpus.DEFAULT_FILES}, about 40,000 lines)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=generate_corpus.DEFAULT_SEED,
        help=f"generator seed (default {generate_corpus.DEFAULT_SEED})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"runs of each measurement; the best counts (default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--budget", type=float, default=BUDGET, help=f"minimum ratio (default {BUDGET})"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--enforce", action="store_true", help="exit 1 when the ratio is below the budget"
    )
    parser.add_argument(
        "--parse-only", action="store_true", help="measure the parse loop only; skip prefect-lint"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.files < 1:
        parser.error("--files must be at least 1")
    if args.corpus is not None and not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus} is not a directory")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.corpus is not None:
            corpus = load_corpus(args.corpus.resolve(), generated=False, seed=None, mistakes=None)
            return run(args, corpus)
        with tempfile.TemporaryDirectory(prefix="prefect-lint-bench-") as tmp:
            root = Path(tmp) / "corpus"
            summary = generate_corpus.generate_corpus(root, args.files, args.seed)
            corpus = load_corpus(root, generated=True, seed=args.seed, mistakes=summary.mistakes)
            return run(args, corpus)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
