"""Python code blocks in Markdown/MDX through the real CLI: discovery, positions, fixes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

FIXTURES = ROOT / "fixtures" / "markdown"
WAIT_IMPORT = "from prefect import flow, wait\n"


def codes_at(cwd: Path, *args: str) -> list[str]:
    """`path:line:column: CODE` for each diagnostic of a concise run."""
    result = run_cli(
        "check", "--no-cache", "--output-format", "concise", "--exit-zero", *args, cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    return [
        " ".join(line.split(" ")[:2])
        for line in result.stdout.splitlines()
        if re.match(r"^\S+:\d+:\d+: PFL", line)
    ]


@pytest.fixture
def guide(tmp_path: Path) -> Path:
    shutil.copy(FIXTURES / "guide.md", tmp_path / "guide.md")
    return tmp_path / "guide.md"


def test_fixture_positions_point_into_the_document(guide: Path) -> None:
    assert codes_at(guide.parent, "--extend-include", "*.md", "guide.md") == [
        "guide.md:6:33: PFL105",  # top-level ```python block
        "guide.md:36:8: PFL102",  # ```py block indented inside a list item
    ]
    # Silent: the clean ~~~python3 block, `console` and `text` blocks with flow code, the
    # doctest block (does not parse), the `# noqa` block and the block nested in ````markdown.


def test_full_output_shows_the_document_line(guide: Path) -> None:
    result = run_cli(
        "check", "--no-cache", "--extend-include", "*.md", "guide.md", cwd=guide.parent
    )
    assert "36 |        load.submit(1)" in result.stdout
    assert "   |        ^^^^^^^^^^^^^^ PFL102" in result.stdout
    assert "PFL000" not in result.stdout


def test_fix_matches_the_golden_document(guide: Path) -> None:
    result = run_cli(
        "check", "--no-cache", "--extend-include", "*.md", "--fix", "guide.md", cwd=guide.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.stdout
    assert guide.read_bytes() == (FIXTURES / "guide.fixed.md").read_bytes()
    again = run_cli("check", "--no-cache", "--extend-include", "*.md", "guide.md", cwd=guide.parent)
    assert again.returncode == 0
    assert again.stdout == "All checks passed!\n"


def test_diff_changes_only_lines_inside_python_fences(guide: Path) -> None:
    before = guide.read_text()
    result = run_cli(
        "check", "--no-cache", "--extend-include", "*.md", "--diff", "guide.md", cwd=guide.parent
    )
    assert result.returncode == 1
    assert guide.read_text() == before
    changed = [
        line[1:]
        for line in result.stdout.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "from prefect import flow, task, wait",
        "from prefect import flow, task",
        "from prefect.futures import wait",
        "       load.submit(1)",
        "       load_future = load.submit(1)",
        "       wait([load_future])",
    ]


def test_json_edits_map_to_the_document(guide: Path) -> None:
    result = run_cli(
        "check",
        "--no-cache",
        "--extend-include",
        "*.md",
        "--output-format",
        "json",
        "guide.md",
        cwd=guide.parent,
    )
    records = json.loads(result.stdout)
    assert [(r["code"], r["location"], r["end_location"]) for r in records] == [
        ("PFL105", {"row": 6, "column": 33}, {"row": 6, "column": 37}),
        ("PFL102", {"row": 36, "column": 8}, {"row": 36, "column": 22}),
    ]
    # Applying every edit to the document gives the golden file.
    lines = guide.read_text().splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    text = "".join(lines)
    edits = [
        (
            starts[e["location"]["row"] - 1] + e["location"]["column"] - 1,
            starts[e["end_location"]["row"] - 1] + e["end_location"]["column"] - 1,
            e["content"],
        )
        for record in records
        for e in record["fix"]["edits"]
    ]
    for start, end, content in sorted(edits, reverse=True):
        text = text[:start] + content + text[end:]
    assert text == (FIXTURES / "guide.fixed.md").read_text()


def test_markdown_is_checked_only_when_included(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("```python\n" + WAIT_IMPORT + "```\n")
    (tmp_path / "docs" / "b.mdx").write_text("```py\n" + WAIT_IMPORT + "```\n")
    (tmp_path / "docs" / "c.txt").write_text("```python\n" + WAIT_IMPORT + "```\n")
    assert codes_at(tmp_path, ".") == []
    assert codes_at(tmp_path, "--extend-include", "*.md", ".") == ["docs/a.md:2:27: PFL105"]
    both = ["docs/a.md:2:27: PFL105", "docs/b.mdx:2:27: PFL105"]
    assert codes_at(tmp_path, "--extend-include", "*.md,*.mdx", ".") == both
    assert codes_at(tmp_path, "--extend-include", "*.md", "--extend-include", "*.mdx", ".") == both
    (tmp_path / "pyproject.toml").write_text(
        '[tool.prefect-lint]\nextend-include = ["*.md", "*.mdx"]\n'
    )
    assert codes_at(tmp_path, ".") == both


def test_a_named_markdown_file_needs_the_include(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("```python\n" + WAIT_IMPORT + "```\n")
    result = run_cli("check", "--no-cache", "a.md", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "All checks passed!\n"
    assert "warning: a.md: not checked" in result.stderr
    assert "extend-include" in result.stderr
    assert codes_at(tmp_path, "--extend-include", "*.md", "a.md") == ["a.md:2:27: PFL105"]


def test_excluded_markdown_is_not_walked(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "a.md").write_text("```python\n" + WAIT_IMPORT + "```\n")
    assert codes_at(tmp_path, "--extend-include", "*.md", ".") == []


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # Languages that are not Python, and info strings that only look like it.
        ("```pycon\n" + WAIT_IMPORT + "```\n", []),
        ("```python-repl\n" + WAIT_IMPORT + "```\n", []),
        ("```\n" + WAIT_IMPORT + "```\n", []),
        ("```toml\n" + WAIT_IMPORT + "```\n", []),
        # Unclosed fences, and fences closed by the wrong character or a shorter run.
        ("```python\n" + WAIT_IMPORT, []),
        ("~~~python\n" + WAIT_IMPORT + "```\n", []),
        ("````python\n" + WAIT_IMPORT + "```\n", []),
        # A "closing" fence with an info string does not close.
        ("```python\n" + WAIT_IMPORT + "```python\n", []),
        # Inline code on one line is not a fence.
        ("Use ```python " + WAIT_IMPORT.strip() + "``` here.\n", []),
        # Spellings that are Python.
        ("```Python\n" + WAIT_IMPORT + "```\n", ["x.md:3:27: PFL105"]),
        ("```python3\n" + WAIT_IMPORT + "```\n", ["x.md:3:27: PFL105"]),
        ('``` py title="x.py"\n' + WAIT_IMPORT + "```\n", ["x.md:3:27: PFL105"]),
        ("```{.python}\n" + WAIT_IMPORT + "```\n", ["x.md:3:27: PFL105"]),
        ("~~~~python\n" + WAIT_IMPORT + "~~~~~\n", ["x.md:3:27: PFL105"]),
        # A longer closing fence closes; a shorter one inside the block does not.
        ("````python\n" + WAIT_IMPORT + "x = '''\n```\n'''\n````\n", ["x.md:3:27: PFL105"]),
        # Blocks that do not parse are skipped without a PFL000.
        ("```python\n" + WAIT_IMPORT + "def broken(:\n```\n", []),
        ("```python\n>>> " + WAIT_IMPORT + "```\n", []),
        # A suppression comment inside the block.
        ("```python\n" + WAIT_IMPORT.rstrip() + "  # noqa: PFL105\n```\n", []),
    ],
)
def test_fence_near_misses(tmp_path: Path, document: str, expected: list[str]) -> None:
    (tmp_path / "x.md").write_text("Intro.\n" + document)
    assert codes_at(tmp_path, "--extend-include", "*.md", "x.md") == expected


def test_indented_fence_columns_and_fix_keep_the_indentation(tmp_path: Path) -> None:
    document = (
        "- item\n"
        "\n"
        "    ```python\n"
        "    from prefect import flow, wait\n"
        "\n"
        "    print(flow, wait)\n"
        "    ```\n"
    )
    (tmp_path / "x.md").write_text(document)
    assert codes_at(tmp_path, "--extend-include", "*.md", "x.md") == ["x.md:4:31: PFL105"]
    run_cli("check", "--no-cache", "--extend-include", "*.md", "--fix", "x.md", cwd=tmp_path)
    assert (tmp_path / "x.md").read_text() == (
        "- item\n"
        "\n"
        "    ```python\n"
        "    from prefect import flow\n"
        "    from prefect.futures import wait\n"
        "\n"
        "    print(flow, wait)\n"
        "    ```\n"
    )


def test_crlf_documents_keep_their_line_endings(tmp_path: Path) -> None:
    document = "# Title\r\n\r\n```python\r\n" + WAIT_IMPORT.replace("\n", "\r\n") + "```\r\n"
    (tmp_path / "x.md").write_bytes(document.encode())
    assert codes_at(tmp_path, "--extend-include", "*.md", "x.md") == ["x.md:4:27: PFL105"]
    run_cli("check", "--no-cache", "--extend-include", "*.md", "--fix", "x.md", cwd=tmp_path)
    assert (tmp_path / "x.md").read_bytes() == (
        b"# Title\r\n\r\n```python\r\nfrom prefect import flow\r\n"
        b"from prefect.futures import wait\r\n```\r\n"
    )


def test_each_block_is_its_own_module(tmp_path: Path) -> None:
    # The second block submits a task defined in the first: as a module of its own it does
    # not know `load`, so it stays silent; the third block defines and submits it.
    task = "from prefect import flow, task\n\n\n@task\ndef load() -> None:\n    pass\n"
    flow = "\n\n@flow\ndef f() -> None:\n    load.submit()\n"
    document = (
        f"```python\n{task}```\n\n"
        f"```python\nfrom prefect import flow\n{flow}```\n\n"
        f"```python\n{task}{flow}```\n"
    )
    (tmp_path / "x.md").write_text(document)
    assert codes_at(tmp_path, "--extend-include", "*.md", "x.md") == ["x.md:30:5: PFL102"]


def test_stdin_with_a_markdown_filename(tmp_path: Path) -> None:
    result = run_cli(
        "check",
        "--output-format",
        "concise",
        "--stdin-filename",
        "doc.md",
        "-",
        cwd=tmp_path,
        stdin="Text\n\n```python\n" + WAIT_IMPORT + "```\n",
    )
    assert result.stdout.splitlines()[0].startswith("doc.md:4:27: PFL105")


HIGHLIGHTED = """\
# Guide

```python {9} title="pipeline.py"
from prefect import flow, task


@task
def load(n: int) -> int:
    return n


@flow
def pipeline() -> None:
    load.submit(1)
```

```py hl_lines="1 3-4" {1,3-4}
from prefect import flow, wait

@flow
def p():
    wait([])
```

```python {2,4}
from prefect import flow, wait
x = 1

print(flow, wait)
```
"""


def test_fix_shifts_line_highlights_in_the_fence(tmp_path: Path) -> None:
    # `{9}` marks `@flow`; the fix adds an import above it, so the highlight must follow.
    # A highlighted line that the fix splits in two highlights both of its new lines.
    (tmp_path / "x.md").write_text(HIGHLIGHTED)
    run_cli("check", "--no-cache", "--extend-include", "*.md", "--fix", "x.md", cwd=tmp_path)
    fixed = (tmp_path / "x.md").read_text()
    fences = [line for line in fixed.splitlines() if line.startswith("```") and line != "```"]
    assert fences == [
        '```python {10} title="pipeline.py"',
        '```py hl_lines="1-2 4-5" {1-2,4-5}',
        "```python {3,5}",
    ]
    lines = fixed.splitlines()
    opening = [i for i, line in enumerate(lines) if line.startswith("```") and line != "```"]
    # Line n of a block is n lines below its opening fence.
    assert lines[opening[0] + 10] == "@flow"
    assert [lines[opening[1] + n] for n in (1, 2, 4, 5)] == [
        "from prefect import flow",
        "from prefect.futures import wait",
        "@flow",
        "def p():",
    ]
    assert [lines[opening[2] + n] for n in (3, 5)] == ["x = 1", "print(flow, wait)"]


def test_json_edits_shift_line_highlights_too(tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text(HIGHLIGHTED)
    result = run_cli(
        "check",
        "--no-cache",
        "--extend-include",
        "*.md",
        "--output-format",
        "json",
        "x.md",
        cwd=tmp_path,
    )
    records = json.loads(result.stdout)
    # Each diagnostic's own edits, applied alone, move the highlight of its block.
    text = HIGHLIGHTED
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    first = next(r for r in records if r["code"] == "PFL102")
    for edit in sorted(first["fix"]["edits"], key=lambda e: e["location"]["row"], reverse=True):
        start = starts[edit["location"]["row"] - 1] + edit["location"]["column"] - 1
        end = starts[edit["end_location"]["row"] - 1] + edit["end_location"]["column"] - 1
        text = text[:start] + edit["content"] + text[end:]
    assert text.splitlines()[2] == '```python {10} title="pipeline.py"'


@pytest.mark.parametrize(
    ("fence", "expected"),
    [
        # Line 1 became lines 1-2, line 2 moved to 3, line 3 was removed, line 4 moved to 4.
        ("```python {1,4} title='a.py'", "```python {1-2,4} title='a.py'"),
        ("```python {2-4}", "```python {3-4}"),
        ('```py hl_lines="4 2"', '```py hl_lines="4 3"'),
        # Attributes in braces are not highlights; a highlight whose lines all went stays.
        ("```{.python} {title=x}", "```{.python} {title=x}"),
        ("```python {3}", "```python {3}"),
        ("````python {1}", "````python {1-2}"),
    ],
)
def test_highlight_renumbering(fence: str, expected: str) -> None:
    from prefect_lint.engine.markdown import _shifted_fence

    assert _shifted_fence(fence, {1: [1, 2], 2: [3], 3: [], 4: [4]}) == expected
