"""Configuration nearest each file, as ruff resolves it: the CLI from any directory, the cache,
`extend`, and the three file names. (flake8 and the language server: their own test files.)"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from prefect_lint.config import ConfigError, SettingsResolver, load_settings
from tests.helpers import run_cli
from tests.monorepo import EXPECTED, build_monorepo


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    return build_monorepo(tmp_path / "mono")


def _codes(stdout: str, base: Path, cwd: Path) -> dict[str, list[str]]:
    """path relative to `base` -> codes, from concise output printed in `cwd`."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in stdout.splitlines():
        if ": PFL" not in line:
            continue
        path, _, _, rest = line.split(":", 3)
        relative = os.path.relpath(os.path.join(cwd, path), base).replace(os.sep, "/")
        found[relative].append(rest.split()[0])
    return dict(found)


def test_every_file_gets_its_nearest_configuration(mono: Path) -> None:
    result = run_cli("check", "--no-cache", "--output-format", "concise", ".", cwd=mono)
    assert result.returncode == 1, result.stderr
    assert _codes(result.stdout, mono, mono) == EXPECTED  # sub/generated/ is excluded


@pytest.mark.parametrize(
    ("cwd", "target"),
    [(".", "sub/b.py"), ("sub", "b.py"), ("sub", "."), ("svc", "c.py"), ("plain", "../svc")],
)
def test_same_findings_from_any_directory(mono: Path, cwd: str, target: str) -> None:
    """The issue's case: `check sub/b.py` from the root and `cd sub && check b.py` agree."""
    where = mono / cwd
    result = run_cli("check", "--no-cache", "--output-format", "concise", target, cwd=where)
    found = _codes(result.stdout, mono, where)
    expected = {
        p: c
        for p, c in EXPECTED.items()
        if (mono / p).resolve().is_relative_to((where / target).resolve())
    }
    assert found == expected


def test_the_cache_keys_each_file_by_its_own_settings(mono: Path) -> None:
    cache = str(mono / "cache")
    first = run_cli("check", "--cache-dir", cache, "--output-format", "concise", ".", cwd=mono)
    again = run_cli(
        "check", "-v", "--cache-dir", cache, "--output-format", "concise", ".", cwd=mono
    )
    assert again.stdout == first.stdout
    assert "4 from the cache" in again.stderr
    # Editing the subproject's configuration changes its file's result, not the others'.
    (mono / "sub" / "pyproject.toml").write_text(
        '[tool.prefect-lint]\nextend = "../pyproject.toml"\nignore = ["PFL101", "PFL102"]\n'
    )
    after = run_cli(
        "check", "-v", "--cache-dir", cache, "--output-format", "concise", ".", cwd=mono
    )
    assert "sub/b.py" not in _codes(after.stdout, mono, mono)
    assert "3 from the cache" in after.stderr


def test_show_settings_names_the_chain(mono: Path) -> None:
    result = run_cli("check", "--show-settings", "svc/c.py", cwd=mono)
    assert result.returncode == 0, result.stderr
    assert f"config file:      {mono / 'svc' / '.prefect-lint.toml'}" in result.stdout
    assert f"extends:          {mono / 'pyproject.toml'}" in result.stdout
    assert "target prefect:   2.19" in result.stdout
    assert "ignore:           PFL105" in result.stdout


def test_config_option_applies_to_every_file(mono: Path) -> None:
    """`--config` is one configuration for all files (ruff's `--config` too)."""
    result = run_cli(
        "check",
        "--no-cache",
        "--config",
        "pyproject.toml",
        "--output-format",
        "concise",
        ".",
        cwd=mono,
    )
    found = _codes(result.stdout, mono, mono)
    assert found["sub/b.py"] == ["PFL102", "PFL101"]
    assert found["svc/c.py"] == ["PFL102", "PFL101"]


def test_dedicated_files_win_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.prefect-lint]\nignore = ["PFL101"]\n')
    (tmp_path / "prefect-lint.toml").write_text('ignore = ["PFL102"]\n')
    resolver = SettingsResolver()
    assert resolver(str(tmp_path / "x.py")).ignore == ["PFL102"]
    (tmp_path / ".prefect-lint.toml").write_text('ignore = ["PFL103"]\n')
    assert SettingsResolver()(str(tmp_path / "x.py")).ignore == ["PFL103"]


def test_pyproject_without_the_table_is_not_a_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.prefect-lint]\nignore = ["PFL101"]\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    assert SettingsResolver()(str(tmp_path / "pkg" / "x.py")).ignore == ["PFL101"]


def test_extend_merges_like_ruff(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        'ignore = ["PFL101"]\nextend-select = ["PFL2"]\npreview = true\n'
        'per-file-ignores = { "pkg/tests/**" = ["PFL1"], "other/**" = ["PFL1"] }\n'
        'exclude = ["build", "/pkg/gen/", "other/"]\n'
    )
    (tmp_path / "pkg").mkdir()
    child = tmp_path / "pkg" / "prefect-lint.toml"
    child.write_text('extend = "../base.toml"\nignore = ["PFL102"]\n')
    settings = load_settings(str(child))
    assert settings.ignore == ["PFL101", "PFL102"] and settings.extend_select == ["PFL2"]
    assert settings.preview is True and settings.root == str(tmp_path / "pkg")
    # Anchored patterns are re-anchored at the extending file's directory, or dropped when
    # they cannot match below it; unanchored ones (`build`, `other/`) match at any depth.
    assert settings.exclude == ["build", "/gen/", "other/"]
    assert settings.per_file_ignores == {"/tests/**": ["PFL1"]}
    assert settings.codes_for(str(tmp_path / "pkg" / "tests" / "t.py")) == frozenset(
        c for c in settings.enabled_codes if not c.startswith("PFL1")
    )
    # A `select` of its own starts the selection afresh.
    child.write_text('extend = "../base.toml"\nselect = ["PFL105"]\n')
    assert load_settings(str(child)).enabled_codes == {"PFL105"}


def test_extend_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extend = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extend = "a.toml"\n')
    with pytest.raises(ConfigError, match="`extend` makes a cycle"):
        load_settings(str(tmp_path / "a.toml"))
    (tmp_path / "c.toml").write_text('extend = "missing.toml"\n')
    with pytest.raises(ConfigError, match="`extend`: no such file"):
        load_settings(str(tmp_path / "c.toml"))


def test_broken_subproject_configuration_is_a_usage_error(mono: Path) -> None:
    (mono / "sub" / "pyproject.toml").write_text('[tool.prefect-lint]\nselect = "PFL1"\n')
    result = run_cli("check", ".", cwd=mono)
    assert result.returncode == 2
    assert f"{mono / 'sub' / 'pyproject.toml'} [tool.prefect-lint]: `select`" in result.stderr
    assert result.stdout == ""
