#!/usr/bin/env python3
"""Record, or compare against a record, every rule trigger's verdict on every file.

A speed change to the `ast` pre-check (`model/precheck.py`, `model/futures_precheck.py`,
`model/relevance.py`) must not change a single decision it takes. This asks each rule's
trigger, in the registry's order on one shared `Precheck` per file, over `fixtures/`, the
generated benchmark corpus and the generated scaling shapes; with the project index answering
"no Prefect values" and "Prefect values", and with and without a configured flow and task
decorator; and a digest of the file's facts (`relevance.file_facts`). Every verdict goes into
one JSON file; ``--compare FILE`` exits 1 on any difference.

    python benchmarks/verdicts.py --write before.json     # on the old code
    python benchmarks/verdicts.py --compare before.json   # on the new code
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate_corpus  # noqa: E402
import shapes  # noqa: E402
from findings import SHAPE_SIZES  # noqa: E402

from prefect_lint.model.api import NO_USER_DECORATORS, UserDecorators  # noqa: E402
from prefect_lint.model.precheck import Precheck  # noqa: E402
from prefect_lint.model.relevance import file_facts  # noqa: E402
from prefect_lint.python_ast import python_tree  # noqa: E402
from prefect_lint.rules import VISITOR_RULES  # noqa: E402

_CONFIGURED = UserDecorators(
    flows=frozenset({"acme.deco.tracked_flow", "acme.tracked_flow"}),
    tasks=frozenset({"acme.deco.tracked_task"}),
)
_DECORATORS = {"plain": NO_USER_DECORATORS, "configured": _CONFIGURED}


def _answer(project: bool) -> Callable[[], bool]:
    return lambda: project


def verdicts_of(text: str) -> dict[str, str]:
    """Per (decorators, project answer): each rule's verdict as one string of 0/1 in the
    registry's order, or why no trigger was asked."""
    tree = python_tree(text)
    if tree is None:
        return {"all": "unparsable"}
    facts = file_facts(text, tree)
    if facts is None:
        return {"all": "no facts"}
    names = "\n".join(sorted(facts.names))
    bound = "\n".join(f"{k}={sorted(v)}" for k, v in sorted(facts.bound.items()))
    out: dict[str, str] = {
        "opaque": str(facts.opaque),
        "bare_wait": str(facts.calls_bare_wait),
        "names": hashlib.sha256(names.encode()).hexdigest()[:16],
        "bound": hashlib.sha256(bound.encode()).hexdigest()[:16],
    }
    for label, decorators in _DECORATORS.items():
        for project in (False, True):
            precheck = Precheck(tree, facts, decorators, _answer(project))
            bits = "".join("1" if rule.trigger(precheck) else "0" for rule in VISITOR_RULES)
            out[f"{label}/project={project}"] = bits
    return out


def _files(root: Path, name: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*.py")):
        yield f"{name}/{path.relative_to(root).as_posix()}", path


def collect() -> dict[str, dict[str, str]]:
    repo = HERE.parent
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="pfl-verdicts-") as temp:
        root = Path(temp)
        corpus = root / "corpus"
        generate_corpus.generate_corpus(corpus, files=200, seed=2024)
        shaped = root / "shapes"
        shaped.mkdir()
        for shape in shapes.SHAPES:
            for size in SHAPE_SIZES:
                (shaped / f"{shape}_{size}.py").write_text(shapes.generate(shape, size))
        for name, top in (("fixtures", repo / "fixtures"), ("corpus", corpus), ("shapes", shaped)):
            for key, path in _files(top, name):
                text = path.read_text(encoding="utf-8", errors="replace")
                results[key] = verdicts_of(text)
    results["rules"] = {"order": " ".join(rule.meta.code for rule in VISITOR_RULES)}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    results = collect()
    if args.write is not None:
        args.write.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(f"{len(results) - 1} files recorded in {args.write}")
        return 0
    before = json.loads(args.compare.read_text())
    differences = sorted(
        key for key in before.keys() | results.keys() if before.get(key) != results.get(key)
    )
    for key in differences:
        print(f"{key}: before {before.get(key)} now {results.get(key)}")
    print(f"{len(results) - 1} files, {len(differences)} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
