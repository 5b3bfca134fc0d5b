#!/usr/bin/env python3
"""Benchmark the result cache: a cold ``prefect-lint check`` against a warm one.

In one run this script:

1. generates the synthetic Prefect corpus (``generate_corpus.py``) into a temporary
   directory, or uses ``--corpus DIR``;
2. times, as subprocesses, ``prefect-lint check --jobs 1 --exit-zero --output-format concise
   --verbose --cache-dir CACHE CORPUS`` twice over: *cold* with an empty cache directory
   (deleted before every cold run) and *warm* right after, over the unchanged tree. Each is
   the best of ``--repeat`` runs;
3. checks that the warm runs answered every file from the cache and printed exactly what
   the cold runs printed, then prints both times and the ratio ``cold / warm`` against the
   budget (20): a warm run must be at least 20 times faster than a cold one.

Exit status: 0 (whatever the ratio) unless ``--enforce`` is given, then 1 when the ratio is
below the budget; 2 when the benchmark cannot run or the warm output differs.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_corpus
from run import BenchmarkError, Corpus, lint_command, load_corpus

BUDGET = 20.0
DEFAULT_REPEAT = 3
_VERBOSE = re.compile(r"prefect-lint: (\d+) files, (\d+) from the cache, (\d+) analysed")


def time_once(command: list[str]) -> tuple[float, str, tuple[int, int, int]]:
    """Run once: (wall seconds, stdout, (files, from the cache, analysed))."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BenchmarkError(f"cannot start prefect-lint: {exc}") from exc
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BenchmarkError(f"prefect-lint exited {proc.returncode}:\n{tail}")
    match = _VERBOSE.search(proc.stderr)
    if match is None:
        raise BenchmarkError(f"no --verbose summary in the output:\n{proc.stderr}")
    files, hits, analysed = (int(group) for group in match.groups())
    return elapsed, proc.stdout, (files, hits, analysed)


def measure(corpus: Corpus, cache_dir: Path, repeat: int, jobs: int) -> dict[str, Any]:
    args = ("--jobs", str(jobs), "--exit-zero", "--output-format", "concise", "--verbose")
    command, how = lint_command(corpus.root, ("check", *args, "--cache-dir", str(cache_dir)))
    cold_runs: list[float] = []
    warm_runs: list[float] = []
    for _ in range(repeat):
        shutil.rmtree(cache_dir, ignore_errors=True)
        cold, cold_out, (files, hits, _) = time_once(command)
        if hits:
            raise BenchmarkError(f"the cold run found {hits} cached files")
        warm, warm_out, (_, warm_hits, analysed) = time_once(command)
        if analysed or warm_hits != files:
            raise BenchmarkError(f"the warm run analysed {analysed} of {files} files")
        if warm_out != cold_out:
            raise BenchmarkError("the warm run printed something else than the cold run")
        cold_runs.append(cold)
        warm_runs.append(warm)
    cold_best, warm_best = min(cold_runs), min(warm_runs)
    return {
        "command": command,
        "how": how,
        "files": len(corpus.paths),
        "lines": corpus.lines,
        "cold_seconds": round(cold_best, 4),
        "cold_runs": [round(r, 4) for r in cold_runs],
        "warm_seconds": round(warm_best, 4),
        "warm_runs": [round(r, 4) for r in warm_runs],
        "ratio": round(cold_best / warm_best, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cold vs. warm prefect-lint check (cache).")
    parser.add_argument("--corpus", type=Path, help="use this tree instead of generating one")
    parser.add_argument("--files", type=int, default=generate_corpus.DEFAULT_FILES)
    parser.add_argument("--seed", type=int, default=generate_corpus.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--budget", type=float, default=BUDGET)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--enforce", action="store_true", help="exit 1 below the budget")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.files < 1 or args.jobs < 1:
        parser.error("--repeat, --files and --jobs must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="prefect-lint-cache-bench-") as tmp:
            if args.corpus is not None:
                corpus = load_corpus(
                    args.corpus.resolve(), generated=False, seed=None, mistakes=None
                )
            else:
                root = Path(tmp) / "corpus"
                summary = generate_corpus.generate_corpus(root, args.files, args.seed)
                corpus = load_corpus(
                    root, generated=True, seed=args.seed, mistakes=summary.mistakes
                )
            result = measure(corpus, Path(tmp) / "cache", args.repeat, args.jobs)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["budget"] = args.budget
    result["ok"] = result["ratio"] >= args.budget
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"corpus   {result['files']:,} files, {result['lines']:,} lines")
        print(f"cold     {result['cold_seconds']:7.3f} s  (empty cache, best of {args.repeat})")
        print(f"warm     {result['warm_seconds']:7.3f} s  (every file from the cache)")
        verdict = "OK" if result["ok"] else "BELOW BUDGET"
        print(f"ratio    {result['ratio']:.1f}x (budget >= {args.budget:.0f}x): {verdict}")
    return 1 if args.enforce and not result["ok"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
