"""The fix engine through the real CLI: what it counts, how it writes, how fixed code looks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import run_cli

# Several diagnostics whose fixes overlap: the three unwaited futures of `pipeline` share one
# `wait([...])` fix (one diagnostic has no fix of its own, the others write the same edits),
# a PFL105 import fix touches the line the PFL102 fix adds an import to, and the PFL103 loop
# rewrite is unsafe.
COUNTED = {
    "a.py": """\
from prefect import flow, task, wait


@task
def load(n: int) -> int:
    return n


@flow
def pipeline() -> None:
    a = load.submit(1)
    b = load.submit(2)
    load.submit(3)
    print(a, b)


@flow
def other(xs: list[int]) -> None:
    for x in xs:
        load.submit(x).result()
""",
    "b.py": """\
from prefect import flow, task


@task
def load(n: int) -> int:
    return n


@flow
def first() -> None:
    load.submit(1)
    load.submit(2)


@flow
def second(xs: list[int]) -> list[int]:
    futures = load.map(xs)
    return [f + 1 for f in futures]
""",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).write_text(text)


def _found(output: str) -> int:
    match = re.search(r"^Found (\d+) errors?", output, re.M)
    assert match, output
    return int(match[1])


@pytest.mark.parametrize("unsafe", [False, True])
def test_check_fix_and_diff_count_the_same_diagnostics(tmp_path: Path, unsafe: bool) -> None:
    _write(tmp_path, COUNTED)
    flags = ["--unsafe-fixes"] if unsafe else []
    base = ["check", "--no-cache", "--output-format", "concise", *flags]
    check = run_cli(*base, ".", cwd=tmp_path)
    found = _found(check.stdout)
    assert found == len(re.findall(r"^\S+:\d+:\d+: PFL", check.stdout, re.M)) == 8

    diff = run_cli(*base, "--diff", ".", cwd=tmp_path)
    would = re.search(r"Would fix (\d+) errors?", diff.stderr)
    assert would, diff.stderr

    fixed_copy = tmp_path / "fixed"
    fixed_copy.mkdir()
    _write(fixed_copy, COUNTED)
    fix = run_cli(*base, "--fix", ".", cwd=fixed_copy)
    summary = re.search(r"^Found (\d+) errors? \((\d+) fixed, (\d+) remaining\)", fix.stdout, re.M)
    assert summary, fix.stdout
    total, fixed, remaining = map(int, summary.groups())
    # What remains is what a fresh check of the fixed tree reports.
    after = run_cli(*base, ".", cwd=fixed_copy)
    assert remaining == (_found(after.stdout) if "Found" in after.stdout else 0)
    # The same diagnostics, counted the same way by all three.
    assert total == found
    assert fixed == int(would[1]) == found - remaining
    assert fixed > 0


def test_fixed_counts_per_code_are_diagnostics(tmp_path: Path) -> None:
    _write(tmp_path, COUNTED)
    result = run_cli(
        "check", "--no-cache", "--fix", "--unsafe-fixes", "--show-fixes", ".", cwd=tmp_path
    )
    assert "Found 8 errors (8 fixed, 0 remaining)." in result.stdout, result.stdout
    # a.py: one PFL105, three PFL102 resolved by one shared `wait`, one PFL103.
    assert "- a.py:\n    3 \N{MULTIPLICATION SIGN} PFL102 (unwaited-future)\n" in result.stdout


# -- writing: read-only files, hard links, owners ------------------------------------------------

FIXABLE = "from prefect import flow, wait\n\nprint(flow, wait)\n"
FIXED = "from prefect import flow\nfrom prefect.futures import wait\n\nprint(flow, wait)\n"


def _as_nobody(function, *args):  # type: ignore[no-untyped-def]
    """Run `function(*args)` in a forked child that dropped root for the `nobody` user.

    The child inherits the modules the parent imported (the interpreter itself may live where
    `nobody` cannot read), so the caller warms them up first. Returns what the child returned.
    """
    import multiprocessing
    import os
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` user to drop root for")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child() -> None:
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
        try:
            queue.put(("ok", function(*args)))
        except BaseException as error:  # report it to the parent, whatever it was
            queue.put(("raised", repr(error)))

    process = context.Process(target=child)
    process.start()
    outcome = queue.get(timeout=120)
    process.join(timeout=60)
    assert outcome[0] == "ok", outcome
    return outcome[1]


def _fix_file(path: str) -> tuple[str | None, bool, list[str]]:
    from prefect_lint.config import Settings
    from prefect_lint.engine.report import Mode
    from prefect_lint.engine.runner import check_file

    report = check_file(path, Settings(), Mode(fix=True))
    error = None if report.error is None else report.error.message
    return error, report.changed, [d.code for d in report.diagnostics]


@pytest.fixture
def shared_dir():  # type: ignore[no-untyped-def]
    """A directory every user may write in (pytest's own tmp_path is private to root)."""
    import os
    import tempfile

    directory = tempfile.mkdtemp(prefix="prefect-lint-perm-")
    os.chmod(directory, 0o777)
    yield Path(directory)
    shutil.rmtree(directory, ignore_errors=True)


def test_fix_refuses_a_read_only_file(shared_dir: Path) -> None:
    import os

    target = shared_dir / "ro.py"
    target.write_text(FIXABLE)
    target.chmod(0o444)
    if os.geteuid() == 0:
        _fix_file(str(shared_dir / "warm.py"))  # import everything while still root
        os.chown(target, 65534, 65534)  # still the file's owner: only the mode forbids it
        error, changed, codes = _as_nobody(_fix_file, str(target))
    else:
        error, changed, codes = _fix_file(str(target))
    assert error is not None and "Permission denied" in error, error
    assert not changed
    assert codes == ["PFL105"]  # the diagnostic is still reported, unfixed
    assert target.read_text() == FIXABLE
    assert oct(target.stat().st_mode & 0o777) == oct(0o444)
    assert [p.name for p in shared_dir.iterdir() if p.name.startswith(".")] == []


def _cli(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from prefect_lint.frontends.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_fix_cli_reports_a_read_only_file_clearly(shared_dir: Path) -> None:
    import os

    target = shared_dir / "ro.py"
    target.write_text(FIXABLE)
    target.chmod(0o444)
    args = ("check", "--no-cache", "--fix", "--output-format", "concise", str(target))
    if os.geteuid() == 0:
        warm = shared_dir / "warm.py"
        warm.write_text(FIXABLE)
        _cli(*args[:-1], str(warm))  # import everything while still root
        os.chown(target, 65534, 65534)
        code, out, err = _as_nobody(_cli, *args)
    else:
        code, out, err = _cli(*args)
    assert code == 2
    assert "Traceback" not in err
    # The failed write is an E902 diagnostic (issue 13), beside the findings left unfixed.
    assert f"{target}:1:1: E902 cannot write the fixed file: Permission denied" in out, out
    assert f"{target}:1:27: PFL105" in out  # still reported, as not fixed
    assert target.read_text() == FIXABLE


def test_fix_writes_through_hard_links(tmp_path: Path) -> None:
    import os

    target = tmp_path / "flows.py"
    target.write_text(FIXABLE)
    other = tmp_path / "same_file.py"
    os.link(target, other)
    inode = target.stat().st_ino
    result = run_cli("check", "--no-cache", "--fix", "flows.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == FIXED
    assert other.read_text() == FIXED  # every name of the file sees the new text
    assert target.stat().st_ino == inode == other.stat().st_ino
    assert target.stat().st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flows.py", "same_file.py"]


def test_fix_replaces_a_single_link_file_atomically_keeping_owner_and_mode(
    tmp_path: Path,
) -> None:
    import os

    target = tmp_path / "flows.py"
    target.write_text(FIXABLE)
    target.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(target, 65534, 65534)
    before = target.stat()
    result = run_cli("check", "--no-cache", "--fix", "flows.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    after = target.stat()
    assert target.read_text() == FIXED
    # A new file renamed over the old one: readers see the old text or the new, never half.
    assert after.st_ino != before.st_ino
    assert (after.st_uid, after.st_gid, after.st_mode) == (
        before.st_uid,
        before.st_gid,
        before.st_mode,
    )


# -- fixed code looks written by hand: imports where isort puts them ---------------------------


def _isort_findings(paths: list[Path], cwd: Path) -> set[Path]:
    """The files among `paths` where ruff's isort rules (I) find something, run from `cwd`
    (the project root, so that ruff tells first-party packages from third-party ones)."""
    import json
    import subprocess
    import sys

    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed next to the interpreter")
    result = subprocess.run(
        [
            *(str(ruff), "check", "--isolated", "--no-cache", "--select", "I"),
            *("--output-format", "json", "--exit-zero", *map(str, paths)),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return {Path(record["filename"]).resolve() for record in json.loads(result.stdout)}


def test_fixes_keep_isort_clean_files_isort_clean() -> None:
    """Every fixture whose imports were sorted (ruff's I001 quiet) stays sorted after --fix."""
    from prefect_lint.model.root import find_project_root
    from tests.fixture_files import fixture_cases, golden_path

    by_root: dict[Path, list[Path]] = {}
    for case in fixture_cases():
        if golden_path(case).exists():
            by_root.setdefault(Path(find_project_root(str(case))), []).append(case.resolve())
    checked = 0
    broken: list[str] = []
    for root, cases in by_root.items():
        goldens = [golden_path(case).resolve() for case in cases]
        findings = _isort_findings(cases + goldens, root)
        for case, golden in zip(cases, goldens, strict=True):
            if case in findings:
                continue  # not sorted to begin with
            checked += 1
            if golden in findings:
                broken.append(str(golden.relative_to(root)))
    assert checked >= 30
    assert broken == []


IMPORT_CASES = {
    # No imports at all: after the docstring, two blank lines before a def, one before code.
    "x = 1\n": "from prefect.futures import wait\n\nx = 1\n",
    '"""Doc."""\n\n\ndef f():\n    pass\n': (
        '"""Doc."""\n\nfrom prefect.futures import wait\n\n\ndef f():\n    pass\n'
    ),
    # A third-party block of its own after the standard library, before local imports.
    "import os\n\nx = os\n": "import os\n\nfrom prefect.futures import wait\n\nx = os\n",
    "from .x import y\n\nx = 1\n": (
        "from prefect.futures import wait\n\nfrom .x import y\n\nx = 1\n"
    ),
    ("from __future__ import annotations\n\nimport os\n\nimport httpx\n\nfrom .x import y\n"): (
        "from __future__ import annotations\n\nimport os\n\nimport httpx\n"
        "from prefect.futures import wait\n\nfrom .x import y\n"
    ),
    # Merged at its sorted place, in the statement's own layout; wrapped when too long.
    "from prefect.futures import as_completed\n": (
        "from prefect.futures import as_completed, wait\n"
    ),
    "from prefect.futures import (\n    as_completed,\n    zzz,\n)\n": (
        "from prefect.futures import (\n    as_completed,\n    wait,\n    zzz,\n)\n"
    ),
    f"from prefect.futures import {'a' * 25}, {'b' * 25}, z\n": (
        f"from prefect.futures import (\n    {'a' * 25},\n    {'b' * 25},\n    wait,\n    z,\n)\n"
    ),
    # Already there: nothing to do.
    "from prefect.futures import wait\n": "from prefect.futures import wait\n",
    # A comment above a block stays with the block.
    "import os\n\n# third party\nimport zzz\n\nx = 1\n": (
        "import os\n\n# third party\nimport zzz\nfrom prefect.futures import wait\n\nx = 1\n"
    ),
}


@pytest.mark.parametrize(("source", "expected"), IMPORT_CASES.items())
def test_new_imports_go_where_isort_puts_them(source: str, expected: str, tmp_path: Path) -> None:
    import libcst as cst

    from prefect_lint.fixes.imports import add_imports
    from prefect_lint.records import ImportRequest

    module = cst.parse_module(source)
    body = add_imports(module, module.body, [ImportRequest("prefect.futures", "wait")])
    fixed = module.with_changes(body=body).code
    assert fixed == expected
    (tmp_path / "before.py").write_text(source)
    (tmp_path / "after.py").write_text(fixed)
    assert _isort_findings([tmp_path / "before.py", tmp_path / "after.py"], tmp_path) == set()


def test_new_imports_never_go_above_future_imports() -> None:
    """Found by the property tests: a stdlib import in a file whose first block mixes
    `from __future__` with other imports went above the `__future__` line (a SyntaxError)."""
    import libcst as cst

    from prefect_lint.fixes.imports import add_imports
    from prefect_lint.records import ImportRequest

    source = '"""P."""\nfrom __future__ import annotations\nfrom prefect import flow\n\nx = flow\n'
    module = cst.parse_module(source)
    body = add_imports(module, module.body, [ImportRequest("asyncio", None)])
    assert module.with_changes(body=body).code == (
        '"""P."""\nfrom __future__ import annotations\n\nimport asyncio\n\n'
        "from prefect import flow\n\nx = flow\n"
    )
