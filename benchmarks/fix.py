#!/usr/bin/env python3
"""Benchmark ``prefect-lint check --fix`` against ``prefect-lint check`` on the same corpus.

Both are the subprocess ``prefect-lint check --jobs 1 --no-cache --exit-zero --output-format
concise [--fix --unsafe-fixes] CORPUS``; ``--fix`` runs on a fresh copy of the corpus each time
(it rewrites files). The two alternate, ``--repeat`` times each, and the best run of each counts.
Because the machine may be shared, the CPU time of the subprocess (user + system, from
``wait4``) is reported beside the wall time, and the ratio ``fix / check`` uses CPU time.
The design budget is ``--fix`` <= 1.2 x ``check``.

``--big-file`` adds a second measurement on one generated module of about 1,270 lines with
23 fixable diagnostics (the shape that used to cost 15 s to fix).

Exit status: 0, or 1 with ``--enforce`` when the ratio is above the budget, 2 when it
cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_corpus
from run import BenchmarkError, lint_command

BUDGET = 1.2
BASE = ("check", "--jobs", "1", "--no-cache", "--exit-zero", "--output-format", "concise")
FIX = (*BASE, "--fix", "--unsafe-fixes")


def measure(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, last line of its output)."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.run(command, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise BenchmarkError(f"{' '.join(command)} exited {process.returncode}")
    lines = process.stdout.decode("utf-8", "replace").strip().splitlines()
    last = lines[-1] if lines else ""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, last


def big_module(flows: int = 23) -> str:
    """One module of about 1,350 lines: `flows` flows, each with an unwaited submit (PFL102,
    safe fix) among ordinary code, and helper tasks between them."""
    parts = ['"""A large pipeline module."""\n\nfrom prefect import flow, task\n']
    for n in range(flows):
        helpers = "".join(
            f"\n\n@task\ndef step_{n}_{k}(value: int) -> int:\n"
            f'    """Step {k} of stage {n}."""\n'
            f"    total = value\n"
            f"    for i in range({k + 2}):\n"
            f"        total += i * {k + 1}\n"
            f"    return total\n"
            for k in range(5)
        )
        parts.append(
            helpers + f"\n\n@flow\ndef stage_{n}(items: list[int]) -> int:\n"
            f'    """Stage {n}: fan out, collect, report."""\n'
            f"    futures = [step_{n}_0.submit(i) for i in items]\n"
            f"    results = [f.result() for f in futures]\n"
            f"    step_{n}_1.submit(sum(results))\n"
            f"    checked = step_{n}_2(len(results))\n"
            f"    return step_{n}_4(step_{n}_3(checked))\n"
        )
    return "".join(parts)


def compare(corpus: Path, repeat: int, scratch: Path) -> dict[str, Any]:
    check_cmd, _ = lint_command(corpus, BASE)
    best: dict[str, tuple[float, float]] = {}
    summary = ""
    for attempt in range(repeat):
        wall, cpu, _ = measure(check_cmd)
        best["check"] = min(best.get("check", (wall, cpu)), (wall, cpu), key=lambda x: x[1])
        copy = scratch / f"fix-{attempt}"
        shutil.copytree(corpus, copy)
        fix_cmd, _ = lint_command(copy, FIX)
        wall, cpu, summary = measure(fix_cmd)
        best["fix"] = min(best.get("fix", (wall, cpu)), (wall, cpu), key=lambda x: x[1])
        shutil.rmtree(copy)
    return {
        "check_wall": round(best["check"][0], 3),
        "check_cpu": round(best["check"][1], 3),
        "fix_wall": round(best["fix"][0], 3),
        "fix_cpu": round(best["fix"][1], 3),
        "ratio_cpu": round(best["fix"][1] / best["check"][1], 3),
        "fix_summary": summary,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="an existing tree instead of the generated one")
    parser.add_argument("--files", type=int, default=generate_corpus.DEFAULT_FILES)
    parser.add_argument("--seed", type=int, default=generate_corpus.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-file", action="store_true", help="also time one 1,350-line file")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--enforce", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"budget": BUDGET, "cpus": os.cpu_count()}
    try:
        with tempfile.TemporaryDirectory(prefix="prefect-lint-fixbench-") as tmp:
            scratch = Path(tmp)
            corpus = args.corpus
            if corpus is None:
                corpus = scratch / "corpus"
                generate_corpus.generate_corpus(corpus, args.files, args.seed)
            results["corpus"] = compare(corpus.resolve(), args.repeat, scratch)
            if args.big_file:
                big = scratch / "big"
                big.mkdir()
                (big / "pipeline.py").write_text(big_module())
                results["big_file"] = compare(big, args.repeat, scratch)
                results["big_file"]["lines"] = big_module().count("\n")
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name in ("corpus", "big_file"):
            if name not in results:
                continue
            r = results[name]
            print(
                f"{name:9} check {r['check_wall']:6.2f} s wall {r['check_cpu']:6.2f} s cpu | "
                f"--fix {r['fix_wall']:6.2f} s wall {r['fix_cpu']:6.2f} s cpu | "
                f"fix/check {r['ratio_cpu']:.2f} (budget <= {BUDGET}) | {r['fix_summary']}"
            )
    over = any(results[n]["ratio_cpu"] > BUDGET for n in ("corpus",) if n in results)
    return 1 if args.enforce and over else 0


if __name__ == "__main__":
    raise SystemExit(main())
