"""The flake8 plugin reads flake8's own `ast` tree of each file: Python parses a file once."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

FILES = {
    # Needs the relevance check (no flow or task in sight).
    "client.py": "from prefect import get_client\n\n\ndef count():\n    return get_client()\n",
    # Not Prefect code at all.
    "plain.py": "import os\n\nprint(os.sep)\n",
    # A flow with a finding.
    "flows.py": (
        "from prefect import flow\n\n\n@flow\ndef child() -> int:\n    return 1\n\n\n"
        "@flow\ndef parent() -> None:\n    child.submit()\n"
    ),
}


def test_flake8_parses_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flake8.main.cli import main as flake8_main

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    parsed: Counter[str] = Counter()
    real_parse = ast.parse

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(source, str):
            parsed[source] += 1
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    capsys.readouterr()
    flake8_main(["--jobs", "1", "--select", "PFL", str(tmp_path)])
    out = capsys.readouterr().out
    assert "flows.py:11:5: PFL101" in out
    assert {name: parsed[text] for name, text in FILES.items()} == dict.fromkeys(FILES, 1)


def test_the_plugin_checks_alike_with_and_without_the_tree(tmp_path: Path) -> None:
    from prefect_lint.frontends.flake8_plugin import _check
    from prefect_lint.rule_codes import RULE_CODES

    for name, text in FILES.items():
        path = tmp_path / name
        path.write_text(text)
        codes = frozenset(RULE_CODES)
        with_tree = _check(text, str(path), codes, ast.parse(text))
        assert with_tree == _check(text, str(path), codes)
        assert bool(with_tree) == (name == "flows.py")
