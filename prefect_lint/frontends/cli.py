"""The `prefect-lint` command: `check` (with fixes), `rule` and `server`, in ruff's conventions.

Nothing here imports LibCST or the rules at module level: `check` answered from the result
cache never needs them, and `rule` and `server` import them themselves.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import errno
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from functools import partial

from prefect_lint import __version__
from prefect_lint.config import (
    ConfigError,
    Overrides,
    Settings,
    SettingsResolver,
    check_selectors,
    find_config,
    load_settings,
)
from prefect_lint.diagnostics import FileError
from prefect_lint.engine.cache import ResultCache
from prefect_lint.engine.discovery import discover
from prefect_lint.engine.report import FileReport, Mode
from prefect_lint.engine.runner import check_text, default_jobs, forget_projects, run, target_for
from prefect_lint.engine.source import SourceError, decode_source, write_atomic
from prefect_lint.model.root import find_project_root
from prefect_lint.model.target import conflict
from prefect_lint.output import FORMATS_WITH_EDITS, OUTPUT_FORMATS
from prefect_lint.output.github import render_github
from prefect_lint.output.json_format import render_json
from prefect_lint.output.json_lines import render_json_lines
from prefect_lint.output.text import PLAIN, Style, color_wanted, render_text, summary
from prefect_lint.versions import parse_target_version

EXIT_CLEAN, EXIT_DIAGNOSTICS, EXIT_ERROR = 0, 1, 2
DEFAULT_OUTPUT_FORMAT = "full"
# The formats `--statistics` can print its table in (ruff's choice too).
STATISTICS_FORMATS = ("full", "concise", "json")


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _jobs(value: str) -> int:
    jobs = int(value)
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs


def _seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return seconds


def _target_version(value: str) -> str:
    try:
        return parse_target_version(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prefect-lint",
        description="Find and fix Prefect 3 mistakes that only show up at runtime.",
    )
    parser.add_argument("--version", action="version", version=f"prefect-lint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="check files and directories (default: .)")
    switch = partial(check.add_argument, action="store_true")  # an option without a value
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories; `-` reads stdin"
    )
    switch("--fix", help="apply safe fixes")
    switch("--unsafe-fixes", help="also apply (or show) unsafe fixes")
    switch("--diff", help="print the fixes as a diff; write nothing")
    check.add_argument(
        "--select",
        type=_comma_list,
        help="comma-separated codes or prefixes to enable (replaces the configured set)",
    )
    check.add_argument(
        "--extend-select",
        type=_comma_list,
        default=[],
        help="codes or prefixes to enable in addition",
    )
    check.add_argument(
        "--ignore", type=_comma_list, default=[], help="codes or prefixes to disable"
    )
    switch("--preview", help="enable preview rules")
    check.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default=None,
        help=f"how to print the diagnostics (default: `output-format` in the config, "
        f"else {DEFAULT_OUTPUT_FORMAT})",
    )
    check.add_argument(
        "-o",
        "--output-file",
        metavar="PATH",
        help="write the report to PATH (replaced atomically) instead of standard output",
    )
    switch("--statistics", help="print how often each code was reported instead of the diagnostics")
    switch(
        "--show-fixes",
        help="after the diagnostics, list the fixes `--fix` applied, per file and code",
    )
    switch("--exit-zero", help="exit 0 even if diagnostics remain")
    switch(
        "--exit-non-zero-on-fix",
        help="with --fix: exit 1 if any file was fixed, even if nothing remains",
    )
    switch("-q", "--quiet", help="print the diagnostics only, no summary")
    switch("--silent", help="print nothing (the exit code still tells whether something was found)")
    switch(
        "--add-noqa",
        help="add `# noqa: CODE` to every line with a finding (to adopt the linter gradually)",
    )
    switch("-w", "--watch", help="check again whenever a file changes (needs the `watch` extra)")
    switch(
        "--force-exclude",
        help="apply `exclude` to files named on the command line too (for pre-commit)",
    )
    check.add_argument(
        "--extend-include",
        type=_comma_list,
        action="append",
        default=[],
        metavar="PATTERNS",
        help='more files to check, e.g. "*.md,*.mdx" (Python code blocks in Markdown)',
    )
    switch("--no-cache", help="do not read or write the result cache")
    check.add_argument(
        "--cache-dir",
        metavar="PATH",
        help="where the result cache lives (default: .prefect_lint_cache)",
    )
    switch("-v", "--verbose", help="report cache use and timing on stderr")
    check.add_argument(
        "-j", "--jobs", type=_jobs, default=None, help="worker processes (default: all cores)"
    )
    check.add_argument(
        "--stdin-filename", help="the path of the file read from stdin (for config and messages)"
    )
    check.add_argument("--config", help="path to a pyproject.toml with a [tool.prefect-lint] table")
    check.add_argument(
        "--target-version",
        type=_target_version,
        help="the Prefect version the code runs on, e.g. 3.4",
    )
    switch(
        "--show-settings",
        help="print the resolved settings, project root and Prefect target, then exit",
    )

    rule = commands.add_parser("rule", help="explain a rule (`prefect-lint rule PFL101`)")
    rule.add_argument("code", nargs="?", help="a rule code such as PFL101, or a rule name")
    rule.add_argument("--all", action="store_true", help="list every rule")

    server = commands.add_parser(
        "server",
        help="run the language server for editors (LSP over stdio; needs the `lsp` extra)",
        description="Speak the Language Server Protocol on stdin/stdout: diagnostics as you "
        "type, quick fixes, `# noqa` suppressions and source.fixAll.prefect-lint.",
    )
    server.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="stop checking a document after this long (default: 30)",
    )
    return parser


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _resolver(args: argparse.Namespace) -> SettingsResolver:
    """Each file's settings: its nearest configuration (or `--config`) plus the options."""
    overrides = Overrides(
        select=check_selectors(args.select, "--select") if args.select is not None else None,
        extend_select=tuple(check_selectors(args.extend_select, "--extend-select")),
        ignore=tuple(check_selectors(args.ignore, "--ignore")),
        preview=args.preview,
        force_exclude=args.force_exclude,
        target_version=args.target_version,
        extend_include=tuple(p for patterns in args.extend_include for p in patterns),
        cache_dir=os.path.abspath(os.path.expanduser(args.cache_dir)) if args.cache_dir else None,
    )
    return SettingsResolver(args.config, overrides)


def _settings(args: argparse.Namespace, resolver: SettingsResolver) -> Settings:
    """The run's own settings (output format, cache directory): from `--config`, else the
    configuration nearest the current directory, else nearest the first path that has one."""
    if args.config:
        config = args.config
    else:
        stdin_path = args.stdin_filename if args.paths == ["-"] else None
        start = [os.getcwd(), *(args.paths or []), *([stdin_path] if stdin_path else [])]
        config = next((found for p in start if (found := find_config(p)) is not None), None)
    return resolver.overrides.apply(load_settings(config))


def _print_diff(report: FileReport) -> None:
    before = (report.original_source or "").splitlines(keepends=True)
    after = (report.source or "").splitlines(keepends=True)
    sys.stdout.writelines(
        difflib.unified_diff(before, after, fromfile=f"a/{report.path}", tofile=f"b/{report.path}")
    )


def _check_stdin(args: argparse.Namespace, resolver: SettingsResolver, mode: Mode) -> FileReport:
    path = args.stdin_filename or "-"
    settings = resolver(path)
    try:
        source = decode_source(sys.stdin.buffer.read(), path)
    except SourceError as error:
        return FileReport(path=path, error=FileError(path, str(error)))
    report = check_text(source.text, path, settings, mode)
    if mode.fix and mode.write and report.error is None:
        # Like ruff: the fixed source goes to stdout, diagnostics to stderr.
        sys.stdout.write(report.source or "")
    return report


def _prepare_output_file(path: str) -> str | None:
    """Check, before any file is checked or fixed, that the report can be written to `path`.

    Missing parent directories are created (as ruff does); the problem, if any, is returned.
    """
    target = os.path.abspath(path)
    if os.path.isdir(target):
        return f"--output-file {path}: is a directory"
    directory = os.path.dirname(target)
    try:
        os.makedirs(directory, exist_ok=True)
        # Creating a file where the report will go proves the rename in write_atomic will work.
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".prefect-lint-", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except FileExistsError:
        # makedirs met a file where a directory should be.
        return f"--output-file {path}: cannot write: {os.strerror(errno.ENOTDIR)}"
    except OSError as error:
        return f"--output-file {path}: cannot write: {error.strerror or error}"
    return None


def _usage_problem(args: argparse.Namespace, output_format: str) -> str | None:
    if args.add_noqa and (args.fix or args.diff or args.statistics):
        return "--add-noqa cannot be combined with --fix, --diff or --statistics"
    if args.add_noqa and args.paths == ["-"]:
        return "--add-noqa edits files; it cannot read stdin"
    if args.exit_non_zero_on_fix and not args.fix:
        return "--exit-non-zero-on-fix needs --fix"
    if args.diff and args.statistics:
        return "--diff cannot be combined with --statistics"
    if args.diff and args.output_file:
        return "--diff prints the diff to standard output; drop --output-file"
    if args.statistics and output_format not in STATISTICS_FORMATS:
        return f"--statistics prints as full, concise or json, not {output_format}"
    return None


def _render(
    args: argparse.Namespace,
    output_format: str,
    reports: list[FileReport],
    errors: list[FileError],
    unchecked: int,
    style: Style = PLAIN,
) -> str:
    # Renderers that read the rules' metadata are imported only when used: a run answered
    # from the cache never loads LibCST or the rules otherwise.
    unsafe = args.unsafe_fixes
    status = summary(
        reports, unsafe_fixes=unsafe, fixing=args.fix, unchecked=unchecked, style=style
    )
    if args.quiet:
        status = ""
    if args.statistics:
        from prefect_lint.output.statistics import (
            count_codes,
            render_statistics,
            render_statistics_json,
        )

        rows = count_codes(reports, unsafe_fixes=unsafe)
        if output_format == "json":
            return render_statistics_json(rows)
        return render_statistics(rows) + status
    if output_format == "json":
        return render_json(reports)
    if output_format == "json-lines":
        return render_json_lines(reports)
    if output_format == "github":
        return render_github(reports)
    if output_format == "sarif":
        from prefect_lint.output.sarif import render_sarif

        return render_sarif(reports, errors)
    text = render_text(reports, full=output_format == "full", unsafe_fixes=unsafe, style=style)
    if args.show_fixes:
        from prefect_lint.output.fix_summary import render_fix_summary

        fixes = render_fix_summary(reports)
    if args.show_fixes and fixes:
        text += f"\n{fixes}\n"
    return text + status


def command_check(args: argparse.Namespace) -> int:
    try:
        resolver = _resolver(args)
        settings = _settings(args, resolver)
    except ConfigError as error:
        _error(str(error))
        return EXIT_ERROR
    if args.show_settings:
        return _show_settings(resolver, settings, (args.paths or ["."])[0])
    output_format = args.output_format or settings.output_format or DEFAULT_OUTPUT_FORMAT
    problem = _usage_problem(args, output_format)
    if problem is None and args.output_file:
        problem = _prepare_output_file(args.output_file)
    if problem is not None:
        _error(problem)
        return EXIT_ERROR
    fixing = args.fix or args.diff
    mode = Mode(
        fix=fixing,
        unsafe_fixes=args.unsafe_fixes,
        write=not args.diff,
        render_fixes=output_format in FORMATS_WITH_EDITS,
    )
    paths = args.paths or ["."]
    errors: list[FileError] = []
    reports: list[FileReport] = []
    stdin_fix = False
    if paths == ["-"]:
        try:
            reports.append(_check_stdin(args, resolver, mode))
        except ConfigError as error:
            _error(str(error))
            return EXIT_ERROR
        stdin_fix = args.fix and not args.diff
    else:
        if "-" in paths:
            _error("`-` (stdin) cannot be combined with other paths")
            return EXIT_ERROR
        try:
            found = discover(paths, resolver)
            # Resolved here, so that a broken configuration is a usage error before any
            # file is checked (workers then find every file's settings cached).
            for path in found.files:
                resolver(path)
        except ConfigError as error:
            _error(str(error))
            return EXIT_ERROR
        # A named path that does not exist is reported like an unreadable file (ruff: E902).
        reports.extend(FileReport(path=error.path, error=error) for error in found.errors)
        for skipped in found.skipped:
            print(f"warning: {skipped}", file=sys.stderr)
        # Like ruff: results of `check` are cached; fixing only skips files known to be clean.
        cache = None if args.no_cache else ResultCache(settings.cache_path)
        started = time.perf_counter()
        reports += run(found.files, resolver, mode, args.jobs or default_jobs(), cache)
        if args.verbose:
            _verbose(cache, len(found.files), time.perf_counter() - started)

    # Files that could not be read, decoded or written become E902 diagnostics, shown, counted
    # and exported like any other (SARIF also lists them as failed notifications). Only
    # internal errors (bugs) stay outside the report, on stderr.
    diagnostics_shown = not (args.diff or args.statistics or args.output_file)
    unchecked = 0
    for position, report in enumerate(reports):
        for line in report.dropped_fixes:
            _error(line)
        if report.error is None:
            continue
        errors.append(report.error)
        if report.error.io:
            if not diagnostics_shown:
                _error(str(report.error))
            # A file that could not be written back keeps its (unfixed) diagnostics.
            reports[position] = dataclasses.replace(
                report, diagnostics=[report.error.diagnostic(), *report.diagnostics]
            )
        else:
            _error(str(report.error))
            unchecked += 1
    failed = bool(errors)
    # A file that could not be written back still has its (unfixed) diagnostics.
    reports = [r for r in reports if r.error is None or r.diagnostics]
    out = sys.stderr if stdin_fix else sys.stdout

    if args.add_noqa:
        from prefect_lint.engine.add_noqa import add_noqa

        added, problems = add_noqa(reports)
        for problem in problems:
            _error(problem)
        if not args.silent:
            noun = "directive" if added == 1 else "directives"
            print(f"Added {added} noqa {noun}.")
        return EXIT_ERROR if failed or problems else EXIT_CLEAN

    if args.diff:
        changed = [r for r in reports if r.changed]
        for report in changed if not args.silent else ():
            _print_diff(report)
        fixed = sum(sum(r.fixed.values()) for r in changed)
        if fixed and not (args.quiet or args.silent):
            noun = "error" if fixed == 1 else "errors"
            print(f"Would fix {fixed} {noun}.", file=sys.stderr)
        if failed:
            return EXIT_ERROR
        return EXIT_DIAGNOSTICS if changed and not args.exit_zero else EXIT_CLEAN

    style = Style(enabled=not args.output_file and color_wanted(out))
    rendered = _render(args, output_format, reports, errors, unchecked, style)
    if args.output_file:
        try:
            write_atomic(args.output_file, rendered.encode("utf-8"))
        except OSError as error:
            _error(f"--output-file {args.output_file}: cannot write: {error.strerror or error}")
            return EXIT_ERROR
    elif not args.silent:
        out.write(rendered)
    if failed:
        return EXIT_ERROR
    remaining = any(r.diagnostics for r in reports)
    if args.exit_non_zero_on_fix and any(r.fixed for r in reports):
        remaining = True
    return EXIT_DIAGNOSTICS if remaining and not args.exit_zero else EXIT_CLEAN


# What a change to re-check on: code, documents that may be checked, and configuration.
WATCHED_SUFFIXES = (".py", ".pyi", ".ipynb", ".md", ".mdx", ".toml", ".cfg", ".txt")


def _missing_extra(problem: str, extra: str) -> int:
    """Report an optional dependency that is not installed, with the command that adds it."""
    _error(f"{problem} with `pip install 'prefect-lint[{extra}]'`")
    return EXIT_ERROR


def command_watch(args: argparse.Namespace) -> int:
    """`check --watch`: check, then check again after every change (until Ctrl-C)."""
    try:
        # Imported here: an optional dependency (the `watch` extra).
        import watchfiles
    except ImportError as error:
        return _missing_extra(f"--watch needs watchfiles ({error}); install it", "watch")
    if args.paths == ["-"] or args.add_noqa:
        _error("--watch cannot be combined with stdin or --add-noqa")
        return EXIT_ERROR

    class _Filter(watchfiles.DefaultFilter):
        def __call__(self, change: watchfiles.Change, path: str) -> bool:
            return path.endswith(WATCHED_SUFFIXES) and super().__call__(change, path)

    ignored = (*watchfiles.DefaultFilter.ignore_dirs, ".prefect_lint_cache")
    paths = [p for p in (args.paths or ["."]) if os.path.exists(p)] or ["."]
    print("Starting prefect-lint in watch mode...", file=sys.stderr, flush=True)
    code = command_check(args)
    sys.stdout.flush()
    for changes in watchfiles.watch(*paths, watch_filter=_Filter(ignore_dirs=ignored)):
        names = sorted({os.path.relpath(path) for _, path in changes})
        print(f"\nFile change detected ({', '.join(names)}); checking again...", file=sys.stderr)
        sys.stderr.flush()
        # A run in this process (one job) would otherwise see the project as it was.
        forget_projects()
        code = command_check(args)
        sys.stdout.flush()
    return code


def _verbose(cache: ResultCache | None, files: int, seconds: float) -> None:
    hits = 0 if cache is None else cache.hits
    analysed = files - hits
    where = "disabled" if cache is None else cache.directory
    print(
        f"prefect-lint: {files} files, {hits} from the cache, {analysed} analysed "
        f"in {seconds:.3f} s (cache: {where})",
        file=sys.stderr,
    )
    if cache is not None and cache.write_errors:
        print(
            f"prefect-lint: {cache.write_errors} cache entries could not be written",
            file=sys.stderr,
        )


def _show_settings(resolver: SettingsResolver, run_settings: Settings, path: str) -> int:
    try:
        settings = resolver.for_directory(path) if os.path.isdir(path) else resolver(path)
    except ConfigError as error:
        _error(str(error))
        return EXIT_ERROR
    probe = path if os.path.isfile(path) else os.path.join(path, "__probe__.py")
    target = target_for(probe, settings)
    lines = [
        f"config file:      {settings.config_path or '(none: defaults)'}",
        f"extends:          {', '.join(reversed(settings.extends)) or '-'}",
        f"project root:     {find_project_root(probe)}",
        f"target prefect:   {target.describe()} ({target.source})",
        f"select:           {', '.join(settings.select or ['PFL'])}",
        f"extend-select:    {', '.join(settings.extend_select) or '-'}",
        f"ignore:           {', '.join(settings.ignore) or '-'}",
        f"per-file-ignores: {settings.per_file_ignores or '-'}",
        f"exclude:          {', '.join([*settings.exclude, *settings.extend_exclude])}",
        f"extend-include:   {', '.join(settings.extend_include) or '-'}",
        f"cache dir:        {run_settings.cache_path}",
        f"respect-gitignore: {str(settings.respect_gitignore).lower()}",
        f"preview:          {str(settings.preview).lower()}",
        f"flow decorators:  {', '.join(['prefect.flow', *settings.extend_flow_decorators])}",
        f"task decorators:  {', '.join(['prefect.task', *settings.extend_task_decorators])}",
        f"output-format:    {run_settings.output_format or DEFAULT_OUTPUT_FORMAT}",
        f"enabled rules:    {', '.join(sorted(settings.enabled_codes))}",
    ]
    for item in target.evidence[1:]:
        lines.insert(3, f"  also Prefect 2:  {item.path}:{item.line} uses `{item.name}`")
    for item in conflict(target, find_project_root(probe)):
        lines.insert(
            3,
            f"  conflict:       {item.path}:{item.line} uses `{item.name}`, which only "
            "Prefect 2 has (PFL301 reports it)",
        )
    print("\n".join(lines))
    return EXIT_CLEAN


def command_rule(args: argparse.Namespace) -> int:
    from prefect_lint.rules import ALL_RULES, RULES_BY_CODE

    if args.all or not args.code:
        from prefect_lint.docs import fix_cell

        for rule in ALL_RULES:
            meta = rule.meta
            print(f"{meta.code} {fix_cell(meta):<17} {meta.name:<24} {meta.summary}")
        print(
            "\nFix: safe (applied by --fix) or unsafe (--unsafe-fixes); always offered, or "
            "sometimes (only for the shapes the rule's docs list)"
        )
        return EXIT_CLEAN
    wanted = args.code.strip()
    found = RULES_BY_CODE.get(wanted.upper()) or next(
        (r for r in ALL_RULES if r.meta.name == wanted), None
    )
    if found is None:
        _error(f"unknown rule {wanted!r}; `prefect-lint rule --all` lists them")
        return EXIT_ERROR
    sys.stdout.write(found.meta.render_docs())
    return EXIT_CLEAN


def command_server(args: argparse.Namespace) -> int:
    from prefect_lint.frontends.lsp.process import EngineProcess

    # Its process imports LibCST and the rules while this one imports pygls.
    engine = EngineProcess(args.timeout)
    engine.spawn()
    try:
        # Imported here: pygls is an optional dependency and slow to import.
        from prefect_lint.frontends.lsp.server import serve
    except ImportError as error:
        engine.stop()
        return _missing_extra(
            f"the language server needs pygls and lsprotocol ({error}); install them", "lsp"
        )
    return serve(timeout=args.timeout, engine=engine)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command == "check":
            return command_watch(args) if args.watch else command_check(args)
        if args.command == "server":
            return command_server(args)
        return command_rule(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
