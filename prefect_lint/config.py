"""Settings: `[tool.prefect-lint]` in pyproject.toml, `prefect-lint.toml` or `.prefect-lint.toml`
(the one nearest each file, with `extend`), overridden by command-line options."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from prefect_lint.model.api import UserDecorators
from prefect_lint.output import OUTPUT_FORMATS
from prefect_lint.rule_codes import RULE_CODES
from prefect_lint.versions import parse_target_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    import pathspec

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


def _git_ignore_spec() -> Callable[[Iterable[str]], pathspec.GitIgnoreSpec]:
    """`pathspec.GitIgnoreSpec.from_lines`, imported on first use: the flake8 plugin reads
    settings in every run and never matches paths (pathspec takes 15 ms to import)."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines


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
    # The files `config_path` extends, farthest first.
    extends: list[str] = field(default_factory=list)
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

    def preview_allows(self, code: str) -> bool:
        """Whether `code` may run at all: a preview rule only with `preview = true` (what every
        face honours, whatever selects the code)."""
        return self.preview or not RULE_CODES[code].preview

    def enabled(self, code: str) -> bool:
        """Ruff's precedence: the most specific matching selector wins; ignore wins ties."""
        if not self.preview_allows(code):
            return False
        selected = _longest_match(code, [*(self.select or ["PFL"]), *self.extend_select])
        ignored = _longest_match(code, self.ignore)
        return selected >= 0 and selected > ignored

    @cached_property
    def enabled_codes(self) -> frozenset[str]:
        return frozenset(code for code in all_codes() if self.enabled(code))

    @cached_property
    def _per_file_specs(self) -> list[tuple[pathspec.GitIgnoreSpec, list[str]]]:
        from_lines = _git_ignore_spec()
        return [(from_lines([pattern]), codes) for pattern, codes in self.per_file_ignores.items()]

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
    def exclude_spec(self) -> pathspec.GitIgnoreSpec:
        return _git_ignore_spec()([*self.exclude, *self.extend_exclude])

    @cached_property
    def include_spec(self) -> pathspec.GitIgnoreSpec:
        return _git_ignore_spec()(self.extend_include)

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


# Looked for in each directory, in this order (ruff: `.ruff.toml`, `ruff.toml`, `pyproject.toml`).
# The two dedicated files hold the keys at top level; pyproject.toml only counts with the table.
CONFIG_FILES = (".prefect-lint.toml", "prefect-lint.toml", "pyproject.toml")


def _read_toml(path: str) -> dict[str, Any]:
    where = os.path.abspath(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{where}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where}: cannot parse: {_one_line(error)}") from None


def _is_pyproject(path: str) -> bool:
    return os.path.basename(path) == "pyproject.toml"


def config_in(directory: str) -> str | None:
    """The configuration file of `directory` itself, if it has one."""
    for name in CONFIG_FILES:
        candidate = os.path.join(directory, name)
        if not os.path.isfile(candidate):
            continue
        if not _is_pyproject(candidate) or TABLE in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def find_config(start: str) -> str | None:
    """The nearest configuration at or above `start`: `.prefect-lint.toml`, `prefect-lint.toml`
    or a pyproject.toml with a [tool.prefect-lint] table."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        found = config_in(directory)
        if found is not None:
            return found
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def load_settings(config_path: str | None) -> Settings:
    """The settings of one configuration file, with the files it `extend`s merged under it."""
    if config_path is None:
        return Settings()
    return _load(os.path.abspath(config_path), ())


def config_chain(config_path: str) -> list[str]:
    """`config_path` and every file it extends, nearest first (for staleness checks)."""
    chain = [os.path.abspath(config_path)]
    while True:
        base = _extends(chain[-1], _table(chain[-1]))
        if base is None or base in chain:
            return chain
        chain.append(base)


def _table(path: str) -> dict[str, Any]:
    data = _read_toml(path)
    table = data.get("tool", {}).get(TABLE, {}) if _is_pyproject(path) else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TABLE}] must be a table")
    return table


def _extends(path: str, table: dict[str, Any]) -> str | None:
    value = table.get("extend")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{_where(path)}: `extend` must be the path of another configuration")
    base = os.path.expandvars(os.path.expanduser(value))
    return os.path.normpath(os.path.join(os.path.dirname(path), base))


def _where(path: str) -> str:
    return f"{path} [tool.{TABLE}]" if _is_pyproject(path) else path


def _load(where_path: str, seen: tuple[str, ...]) -> Settings:
    if where_path in seen:
        cycle = " -> ".join([*seen, where_path])
        raise ConfigError(f"{seen[0]}: `extend` makes a cycle: {cycle}")
    table = _table(where_path)
    base_path = _extends(where_path, table)
    root = os.path.dirname(where_path)
    if base_path is None:
        settings = Settings(root=root, config_path=where_path)
    else:
        if not os.path.isfile(base_path):
            raise ConfigError(f"{_where(where_path)}: `extend`: no such file {base_path}")
        settings = _inherit(_load(base_path, (*seen, where_path)), root, where_path, table)
    _apply_table(settings, table, _where(where_path))
    return settings


def _inherit(base: Settings, root: str, config_path: str, table: dict[str, Any]) -> Settings:
    """The base's settings seen from `root`: patterns re-anchored, lists copied.

    As in ruff, the extending file's keys replace the base's, except that `extend-select`,
    `ignore`, `extend-exclude`, `extend-include` and the wrapper decorators add to them (and a
    `select` of its own drops the base's `extend-select` and `ignore`).
    """
    rebase = _Rebase(base.root, root)
    inherited = replace(
        base,
        root=root,
        config_path=config_path,
        extends=[*base.extends, base.config_path or ""],
        exclude=rebase.patterns(base.exclude),
        extend_exclude=rebase.patterns(base.extend_exclude),
        extend_include=rebase.patterns(base.extend_include),
        per_file_ignores={
            new: list(codes)
            for pattern, codes in base.per_file_ignores.items()
            if (new := rebase.pattern(pattern)) is not None
        },
        select=list(base.select) if base.select is not None else None,
        extend_select=list(base.extend_select),
        ignore=list(base.ignore),
        extend_flow_decorators=list(base.extend_flow_decorators),
        extend_task_decorators=list(base.extend_task_decorators),
    )
    if "select" in table:
        inherited.extend_select, inherited.ignore = [], []
    return inherited


class _Rebase:
    """Turns a `.gitignore`-style pattern relative to `old` into one relative to `new`.

    Unanchored patterns (`build`, `*.pyc`) match at any depth and stay as they are; anchored
    ones (`src/gen/`, `/vendored`) lose the leading directories of `new` below `old`, or are
    dropped when they cannot match anything under `new`.
    """

    def __init__(self, old: str, new: str) -> None:
        relative = os.path.relpath(new, old).replace(os.sep, "/")
        self.below = not (relative == ".." or relative.startswith("../") or os.path.isabs(relative))
        self.parts = [] if relative == "." else relative.split("/")

    def patterns(self, patterns: list[str]) -> list[str]:
        return [new for pattern in patterns if (new := self.pattern(pattern)) is not None]

    def pattern(self, pattern: str) -> str | None:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        sign = "!" if negated else ""
        if "/" not in body.rstrip("/") or not self.parts:
            return pattern
        if not self.below:
            return None
        parts = body.lstrip("/").split("/")
        for segment in self.parts:
            if parts[0] == "**":
                return sign + "/".join(parts)
            if not fnmatch.fnmatchcase(segment, parts[0]):
                return None
            parts = parts[1:]
            if not parts or parts == [""]:
                return sign + "*"  # the pattern names `new` itself: everything below it
        return sign + "/" + "/".join(parts)


def _apply_table(settings: Settings, table: dict[str, Any], where: str) -> None:
    for key, value in table.items():
        if key == "select":
            settings.select = [_check_selector(s, where) for s in _string_list(value, key, where)]
        elif key == "extend":
            pass  # merged by _load
        elif key == "extend-select":
            settings.extend_select = [
                *settings.extend_select,
                *(_check_selector(s, where) for s in _string_list(value, key, where)),
            ]
        elif key == "ignore":
            settings.ignore = [
                *settings.ignore,
                *(_check_selector(s, where) for s in _string_list(value, key, where)),
            ]
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
            settings.extend_exclude = [*settings.extend_exclude, *_string_list(value, key, where)]
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
            settings.extend_include = [*settings.extend_include, *_string_list(value, key, where)]
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
            attribute = key.replace("-", "_")
            setattr(settings, attribute, [*getattr(settings, attribute), *names])
        else:
            raise ConfigError(f"{where}: unknown key `{key}`")


def check_selectors(selectors: list[str], option: str) -> list[str]:
    return [_check_selector(s, option) for s in selectors]


@dataclass(frozen=True)
class Overrides:
    """Command-line options that apply on top of every file's configuration."""

    select: list[str] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    preview: bool = False
    force_exclude: bool = False
    target_version: str | None = None
    extend_include: tuple[str, ...] = ()
    cache_dir: str | None = None

    def apply(self, settings: Settings) -> Settings:
        changed = replace(
            settings,
            select=list(self.select) if self.select is not None else settings.select,
            extend_select=[*settings.extend_select, *self.extend_select],
            ignore=[*settings.ignore, *self.ignore],
            preview=settings.preview or self.preview,
            force_exclude=settings.force_exclude or self.force_exclude,
            target_version=self.target_version or settings.target_version,
            extend_include=[*settings.extend_include, *self.extend_include],
            cache_dir=self.cache_dir or settings.cache_dir,
        )
        if self.select is not None:
            # Like a `select` in the file: the command line's selection starts afresh.
            changed.extend_select = list(self.extend_select)
            changed.ignore = list(self.ignore)
        return changed


class SettingsResolver:
    """The settings of each path: the configuration nearest to it, as ruff resolves them.

    The one place the CLI (per file and per walked directory), the language server, the flake8
    plugin and the result cache's key get their settings from. With `config` (`--config`)
    every path gets that file's settings; `overrides` (the command line) apply on top.
    `reload` (the language server) re-reads a configuration whenever one of the files in its
    `extend` chain changed, and looks for new configuration files on every call.
    """

    def __init__(
        self,
        config: str | None = None,
        overrides: Overrides | None = None,
        *,
        reload: bool = False,
    ) -> None:
        self.config = os.path.abspath(config) if config else None
        self.overrides = overrides or Overrides()
        self.reload = reload
        self._directories: dict[str, str | None] = {}
        # config path (None: no configuration; then keyed by root) -> (stamp, settings)
        self._loaded: dict[str, tuple[tuple[int, ...], Settings]] = {}

    def config_for_directory(self, directory: str) -> str | None:
        if self.config is not None:
            return self.config
        directory = os.path.abspath(directory)
        if self.reload:
            return find_config(directory)
        if directory not in self._directories:
            # Each directory's own files are read once; the rest is the parent's answer.
            found = config_in(directory)
            parent = os.path.dirname(directory)
            if found is None and parent != directory:
                found = self.config_for_directory(parent)
            self._directories[directory] = found
        return self._directories[directory]

    def for_directory(self, directory: str) -> Settings:
        """Settings for the files directly in `directory`; raises ConfigError."""
        config = self.config_for_directory(directory)
        if config is None:
            from prefect_lint.model.root import find_project_root

            root = find_project_root(os.path.join(os.path.abspath(directory), "__init__.py"))
            return self._settings(f"defaults:{root}", lambda: Settings(root=root), ())
        chain = tuple(config_chain(config)) if self.reload else (config,)
        return self._settings(config, lambda: load_settings(config), chain)

    def __call__(self, path: str) -> Settings:
        """Settings for the file `path` (which need not exist); raises ConfigError."""
        if path == "-":
            path = os.path.join(os.getcwd(), "-")
        return self.for_directory(os.path.dirname(os.path.abspath(path)))

    def _settings(self, key: str, load: Any, chain: tuple[str, ...]) -> Settings:
        stamp = tuple(_mtime(path) for path in chain) if self.reload else ()
        cached = self._loaded.get(key)
        if cached is None or cached[0] != stamp:
            cached = (stamp, self.overrides.apply(load()))
            self._loaded[key] = cached
        return cached[1]


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1
