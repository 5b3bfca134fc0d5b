#!/usr/bin/env python3
"""Record, or compare against a record, every finding on the fixtures and benchmark corpora.

A speed change must not change what is reported. This runs the installed ``prefect-lint``
(``--output-format json`` with fixes rendered, and ``full`` with excerpts) and the flake8
plugin over ``fixtures/``, the generated benchmark corpus and the generated scaling shapes,
and writes all of it to one JSON file; ``--compare FILE`` exits 1 when anything differs.

    python benchmarks/findings.py --write before.json     # on the old code
    python benchmarks/findings.py --compare before.json   # on the new code
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate_corpus  # noqa: E402
import shapes  # noqa: E402

# Sizes where every output is quick even before the scaling fixes (JSON renders every fix).
SHAPE_SIZES = (300, 1000)


def _prefect_lint(*args: str, cwd: Path) -> str:
    command = [sys.executable, "-m", "prefect_lint", "check", "--no-cache", "--exit-zero"]
    command += ["--jobs", "1", "--unsafe-fixes", *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return done.stdout


def _flake8(target: Path, cwd: Path) -> str:
    command = [sys.executable, "-m", "flake8", "--select", "PFL", "--jobs", "1", str(target)]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return "".join(sorted(done.stdout.splitlines(keepends=True)))


def _findings(name: str, target: Path, cwd: Path) -> dict[str, str]:
    relative = os.path.relpath(target, cwd)
    out = {
        f"{name}: json": _prefect_lint("--output-format", "json", relative, cwd=cwd),
        f"{name}: full": _prefect_lint("--output-format", "full", relative, cwd=cwd),
        f"{name}: flake8": _flake8(Path(relative), cwd),
    }
    return out


def collect() -> dict[str, str]:
    repo = HERE.parent
    results = _findings("fixtures", repo / "fixtures", repo)
    with tempfile.TemporaryDirectory(prefix="pfl-findings-") as temp:
        root = Path(temp)
        corpus = root / "corpus"
        generate_corpus.generate_corpus(corpus, files=200, seed=2024)
        results.update(_findings("corpus", corpus, root))
        shaped = root / "shapes"
        shaped.mkdir()
        for shape in shapes.SHAPES:
            for size in SHAPE_SIZES:
                (shaped / f"{shape}_{size}.py").write_text(shapes.generate(shape, size))
        results.update(_findings("shapes", shaped, root))
    return results


def _normalized(text: str) -> str:
    """Without the absolute paths of this run's temporary directory and checkout."""
    text = re.sub(r"/tmp/pfl-findings-[^/\s\"]+", "<tmp>", text)
    return re.sub(r"(?:/[\w.+-]+)+/fixtures/", "<repo>/fixtures/", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="record the findings in this file")
    group.add_argument("--compare", type=Path, help="compare with this record")
    options = parser.parse_args()
    results = collect()
    if options.write:
        options.write.write_text(json.dumps(results, indent=1, sort_keys=True))
        count = sum(text.count("\n") for text in results.values())
        print(f"recorded {len(results)} outputs ({count} lines) in {options.write}")
        return 0
    recorded = json.loads(options.compare.read_text())
    differences = 0
    for key in sorted(set(recorded) | set(results)):
        before = _normalized(recorded.get(key, ""))
        after = _normalized(results.get(key, ""))
        if before != after:
            differences += 1
            diff = difflib.unified_diff(
                before.splitlines(), after.splitlines(), "before", "after", lineterm=""
            )
            print(f"== {key} differs ==")
            print("\n".join(list(diff)[:60]))
    if differences:
        print(f"{differences} of {len(results)} outputs differ")
        return 1
    print(f"all {len(results)} outputs identical ({', '.join(sorted(results))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
