"""Settings: `[tool.prefect-lint]` in pyproject.toml, overridden by command-line options."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pathspec

from prefect_lint.model.api import UserDecorators
from prefect_lint.output import OUTPUT_FORMATS
from prefect_lint.rule_codes import RULE_CODES
from prefect_lint.versions import parse_target_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TABLE = "prefect-lint"
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".prefect_lint_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)
DEFAULT_CACHE_DIR = ".prefect_lint_cache"
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class ConfigError(Exception):
    """A configuration problem; the message is one line naming the file and the key."""


def all_codes() -> list[str]:
    return list(RULE_CODES)


def _check_selector(selector: str, where: str) -> str:
    selector = selector.strip().upper()
    if selector == "ALL" or any(code.startswith(selector) for code in all_codes()):
        return selector
    raise ConfigError(f"{where}: unknown rule selector {selector!r}")


def _longest_match(code: str, selectors: list[str]) -> int:
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


@dataclass
class Settings:
    root: str = field(default_factory=os.getcwd)
    config_path: str | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    force_exclude: bool = False
    target_version: str | None = None
    preview: bool = False
    extend_flow_decorators: list[str] = field(default_factory=list)
    extend_task_decorators: list[str] = field(default_factory=list)

    @cached_property
    def user_decorators(self) -> UserDecorators:
        return UserDecorators(
            flows=frozenset(self.extend_flow_decorators),
            tasks=frozenset(self.extend_task_decorators),
        )

    output_format: str | None = None
    # Extra file patterns to check (gitignore syntax, like `exclude`): `*.md`, `*.mdx`.
    extend_include: list[str] = field(default_factory=list)
    # Where the result cache lives; None: `.prefect_lint_cache` in `root`.
    cache_dir: str | None = None

    def enabled(self, code: str) -> bool:
        """Ruff's precedence: the most specific matching selector wins; ignore wins ties."""
        if RULE_CODES[code] and not self.preview:
            return False
        selected = _longest_match(code, [*(self.select or ["PFL"]), *self.extend_select])
        ignored = _longest_match(code, self.ignore)
        return selected >= 0 and selected > ignored

    @cached_property
    def enabled_codes(self) -> frozenset[str]:
        return frozenset(code for code in all_codes() if self.enabled(code))

    @cached_property
    def _per_file_specs(self) -> list[tuple[pathspec.PathSpec, list[str]]]:
        return [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), codes)
            for pattern, codes in self.per_file_ignores.items()
        ]

    def codes_for(self, path: str) -> frozenset[str]:
        """Enabled codes for one file, after `per-file-ignores`."""
        codes = self.enabled_codes
        if not self.per_file_ignores:
            return codes
        relative = self.relative(path)
        for spec, ignored in self._per_file_specs:
            if spec.match_file(relative) or spec.match_file(os.path.basename(path)):
                codes = frozenset(c for c in codes if _longest_match(c, ignored) < 0)
        return codes

    def relative(self, path: str) -> str:
        absolute = os.path.abspath(path)
        try:
            relative = os.path.relpath(absolute, self.root)
        except ValueError:
            return absolute
        return relative.replace(os.sep, "/")

    @cached_property
    def exclude_spec(self) -> pathspec.PathSpec:
        return pathspec.GitIgnoreSpec.from_lines([*self.exclude, *self.extend_exclude])

    @cached_property
    def include_spec(self) -> pathspec.PathSpec:
        return pathspec.GitIgnoreSpec.from_lines(self.extend_include)

    def included(self, path: str) -> bool:
        """Whether `path` matches `extend-include` (by its path from the root, or its name)."""
        if not self.extend_include:
            return False
        spec = self.include_spec
        return spec.match_file(self.relative(path)) or spec.match_file(os.path.basename(path))

    @property
    def cache_path(self) -> str:
        return os.path.abspath(self.cache_dir or os.path.join(self.root, DEFAULT_CACHE_DIR))


def _string_list(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    if not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return list(value)


def find_config(start: str) -> str | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.prefect-lint] table."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    data = tomllib.load(handle)
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise ConfigError(f"{candidate}: cannot parse: {_one_line(error)}") from None
            if TABLE in data.get("tool", {}):
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def load_settings(config_path: str | None) -> Settings:
    if config_path is None:
        return Settings()
    where = os.path.abspath(config_path)
    try:
        with open(config_path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{where}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where}: cannot parse: {_one_line(error)}") from None
    table = data.get("tool", {}).get(TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.{TABLE}] must be a table")
    where = f"{where} [tool.{TABLE}]"
    settings = Settings(root=os.path.dirname(os.path.abspath(config_path)), config_path=config_path)
    for key, value in table.items():
        if key == "select":
            settings.select = [_check_selector(s, where) for s in _string_list(value, key, where)]
        elif key == "extend-select":
            settings.extend_select = [
                _check_selector(s, where) for s in _string_list(value, key, where)
            ]
        elif key == "ignore":
            settings.ignore = [_check_selector(s, where) for s in _string_list(value, key, where)]
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{where}: `per-file-ignores` must be a table of pattern = [codes]"
                )
            settings.per_file_ignores = {
                pattern: [_check_selector(s, where) for s in _string_list(codes, key, where)]
                for pattern, codes in value.items()
            }
        elif key == "exclude":
            settings.exclude = _string_list(value, key, where)
        elif key == "extend-exclude":
            settings.extend_exclude = _string_list(value, key, where)
        elif key == "force-exclude":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `force-exclude` must be true or false")
            settings.force_exclude = value
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `respect-gitignore` must be true or false")
            settings.respect_gitignore = value
        elif key == "preview":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `preview` must be true or false")
            settings.preview = value
        elif key == "output-format":
            if value not in OUTPUT_FORMATS:
                raise ConfigError(
                    f"{where}: `output-format` must be one of {', '.join(OUTPUT_FORMATS)}"
                )
            settings.output_format = value
        elif key == "extend-include":
            settings.extend_include = _string_list(value, key, where)
        elif key == "cache-dir":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: `cache-dir` must be a path")
            # Relative to the config file, like every path in it.
            settings.cache_dir = os.path.join(settings.root, os.path.expanduser(value))
        elif key == "target-version":
            try:
                settings.target_version = parse_target_version(value)
            except ValueError as error:
                raise ConfigError(f"{where}: `target-version`: {error}") from None
        elif key in ("extend-flow-decorators", "extend-task-decorators"):
            names = [name.strip() for name in _string_list(value, key, where)]
            for name in names:
                if not _DOTTED.match(name):
                    raise ConfigError(
                        f"{where}: `{key}` entries must be dotted names such as "
                        f'"mycompany.prefect_utils.tracked_task", not {name!r}'
                    )
            setattr(settings, key.replace("-", "_"), names)
        else:
            raise ConfigError(f"{where}: unknown key `{key}`")
    return settings


def check_selectors(selectors: list[str], option: str) -> list[str]:
    return [_check_selector(s, option) for s in selectors]
