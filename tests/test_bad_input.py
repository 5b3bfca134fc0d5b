"""Bad input never crashes the run and never corrupts a file (design.md, "Bad input")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli

BAD = "from prefect import flow, wait\n\n\n@flow\ndef f() -> None:\n    wait([])\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "good.py").write_text(BAD)
    return tmp_path


def _other_file_still_checked(result) -> None:  # type: ignore[no-untyped-def]
    assert "good.py:1:27: PFL105" in result.stdout


def test_syntax_error_is_a_diagnostic_and_file_is_not_written(tree: Path) -> None:
    broken = "from prefect import flow, wait\n\n@flow\ndef f(:\n    wait([])\n"
    (tree / "broken.py").write_text(broken)
    result = run_cli("check", "--fix", "--output-format", "concise", ".", cwd=tree)
    assert result.returncode == 1
    assert "broken.py:4:7: PFL000 SyntaxError: invalid syntax" in result.stdout
    assert (tree / "broken.py").read_text() == broken
    assert "from prefect.futures import wait" in (tree / "good.py").read_text()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin.py", b"# prefect\nname = '\xff\xfe caf\xe9'\n", "latin.py: cannot decode as utf-8"),
        ("blob.py", b"prefect\x00\x01\x02", "blob.py: binary file"),
        (
            "cookie.py",
            b"# coding: klingon\nimport prefect\n",
            "cookie.py: bad encoding declaration",
        ),
    ],
)
def test_file_that_cannot_be_read_as_python(
    tree: Path, name: str, content: bytes, message: str
) -> None:
    (tree / name).write_bytes(content)
    result = run_cli("check", "--fix", "--output-format", "concise", ".", cwd=tree)
    assert result.returncode == 2
    path, reason = message.split(": ", 1)
    assert f"{path}:1:1: E902 {reason}" in result.stdout
    assert (tree / name).read_bytes() == content
    assert "from prefect.futures import wait" in (tree / "good.py").read_text()


def test_declared_encoding_is_honoured_and_kept_on_fix(tree: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + BAD + "# caf\xe9\n"
    (tree / "declared.py").write_bytes(source.encode("latin-1"))
    result = run_cli("check", "--fix", ".", cwd=tree)
    assert result.returncode == 0, result.stderr
    fixed = (tree / "declared.py").read_bytes()
    assert fixed.endswith("# caf\xe9\n".encode("latin-1"))
    assert b"from prefect.futures import wait" in fixed


def test_crlf_and_bom_are_kept_on_fix(tree: Path) -> None:
    (tree / "windows.py").write_bytes(b"\xef\xbb\xbf" + BAD.replace("\n", "\r\n").encode())
    run_cli("check", "--fix", "windows.py", cwd=tree)
    fixed = (tree / "windows.py").read_bytes()
    assert fixed.startswith(b"\xef\xbb\xbf")
    assert b"\r\nfrom prefect.futures import wait\r\n" in fixed
    assert b"\n" not in fixed.replace(b"\r\n", b"")


def test_empty_file(tree: Path) -> None:
    (tree / "empty.py").write_text("")
    result = run_cli("check", "--output-format", "concise", ".", cwd=tree)
    assert result.returncode == 1
    assert result.stderr == ""
    _other_file_still_checked(result)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tree: Path) -> None:
    locked = tree / "locked.py"
    locked.write_text(BAD)
    locked.chmod(0)
    result = run_cli("check", "--output-format", "concise", ".", cwd=tree)
    assert result.returncode == 2
    assert "locked.py:1:1: E902 cannot read: Permission denied" in result.stdout
    _other_file_still_checked(result)


def test_unreadable_file_as_root(tree: Path) -> None:
    # A directory named like a module cannot be read as a file, whoever runs the test.
    (tree / "dir.py").mkdir()
    (tree / "dir.py" / "inner.txt").write_text("x")
    result = run_cli(
        "check", "--output-format", "concise", "dir.py/inner.txt/x.py", "good.py", cwd=tree
    )
    assert result.returncode == 2
    assert "dir.py/inner.txt/x.py:1:1: E902 no such file or directory" in result.stdout
    _other_file_still_checked(result)


def test_missing_path(tree: Path) -> None:
    result = run_cli("check", "--output-format", "concise", "nope.py", ".", cwd=tree)
    assert result.returncode == 2
    assert "nope.py:1:1: E902 no such file or directory" in result.stdout
    _other_file_still_checked(result)


def test_symlink_loop_and_broken_symlink(tree: Path) -> None:
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "dangling.py").symlink_to(tree / "missing.py")
    result = run_cli("check", "--output-format", "concise", ".", cwd=tree)
    assert result.returncode == 2
    assert "dangling.py:1:1: E902 cannot read" in result.stdout
    assert result.stdout.count("PFL105") == 1


def test_huge_file(tree: Path) -> None:
    body = "".join(f"\n@flow\ndef f{i}() -> None:\n    wait([])\n" for i in range(3000))
    (tree / "huge.py").write_text("from prefect import flow, wait\n" + body)
    result = run_cli("check", "--output-format", "concise", "huge.py", cwd=tree)
    assert result.returncode == 1
    assert result.stdout.startswith("huge.py:1:27: PFL105")


def test_deeply_nested_expression_does_not_crash(tree: Path) -> None:
    (tree / "deep.py").write_text("import prefect\nx = " + "(" * 300 + "1" + ")" * 300 + "\n")
    result = run_cli("check", "--output-format", "concise", "deep.py", "good.py", cwd=tree)
    assert "Traceback" not in result.stderr
    _other_file_still_checked(result)


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "[" * 5000 + "1" + "]" * 5000,
        "lambda: " * 5000 + "1",
        "-" * 100_000 + "1",
        "+".join(["1"] * 100_000),
        "a" + ".b" * 100_000,
        "f" + "()" * 100_000,
    ],
    ids=["parens", "brackets", "lambdas", "unary", "sum", "attributes", "calls"],
)
def test_pathological_nesting_is_a_diagnostic_not_a_crash(tree: Path, expression: str) -> None:
    # LibCST's native parser overflows its stack (SIGSEGV) or runs for minutes on these.
    (tree / "deep.py").write_text(f"import prefect\nx = {expression}\n")
    result = run_cli("check", "--output-format", "concise", "deep.py", "good.py", cwd=tree)
    assert result.returncode == 1, result.stderr
    assert "deep.py:" in result.stdout and "PFL000" in result.stdout
    _other_file_still_checked(result)


def test_undecodable_stdin_is_e902(tree: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "prefect_lint", "check", "-", "--stdin-filename", "in.py"],
        cwd=tree,
        input=b"prefect\x00",
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert b"in.py:1:1: E902 binary file" in result.stdout
    assert b"All checks passed!" not in result.stdout


def test_internal_error_is_never_all_checks_passed() -> None:
    """A file the engine crashed on is not a diagnostic, but the summary says it was not checked."""
    from prefect_lint.output.text import summary

    assert summary([], unsafe_fixes=False, fixing=False) == "All checks passed!\n"
    assert summary([], unsafe_fixes=False, fixing=False, unchecked=2) == (
        "2 files could not be checked (internal error, see above).\n"
    )
