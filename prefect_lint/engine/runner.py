"""Run the checker (or fixer) over many files, spread over worker processes."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from prefect_lint.config import Settings
from prefect_lint.diagnostics import FileError
from prefect_lint.engine.checker import FileReport, check_source
from prefect_lint.engine.fixer import fix_source
from prefect_lint.engine.source import SourceError, read_source, write_atomic
from prefect_lint.model.project import find_project_root, index_for
from prefect_lint.model.target import Target, detect_target

# Below this many files a process pool costs more than it saves.
_PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class Mode:
    fix: bool = False  # apply fixes
    unsafe_fixes: bool = False
    write: bool = True  # write fixed files back (False for --diff)
    render_fixes: bool = False  # attach edits to diagnostics (JSON, editors)


def check_text(text: str, path: str, settings: Settings, mode: Mode) -> FileReport:
    """Check (and maybe fix) one file's text; never raises for bad input."""
    report = FileReport(path=path, source=text, original_source=text)
    codes = settings.codes_for(path)
    decorators = settings.user_decorators
    index = index_for(path, decorators) if path != "-" else None
    target = target_for(path, settings)
    try:
        if mode.fix:
            outcome = fix_source(
                text,
                path,
                codes,
                unsafe=mode.unsafe_fixes,
                index=index,
                target=target,
                decorators=decorators,
            )
            report.diagnostics = outcome.diagnostics
            report.fixed = dict(outcome.fixed)
            report.dropped_fixes = outcome.dropped
            report.source = outcome.text
            report.changed = outcome.text != text
        else:
            report.diagnostics = check_source(
                text,
                path,
                codes,
                render_fixes=mode.render_fixes,
                index=index,
                target=target,
                decorators=decorators,
            )
    except Exception as error:  # a bug must not stop the run or touch the file
        report.error = FileError(path, f"internal error: {type(error).__name__}: {error}")
        report.diagnostics = []
        report.changed = False
        report.source = text
    return report


_targets: dict[tuple[str, str | None], Target] = {}


def target_for(path: str, settings: Settings) -> Target:
    """The Prefect version `path`'s project runs (per process, per project root)."""
    root = find_project_root(path if path != "-" else os.path.join(os.getcwd(), "-"))
    key = (root, settings.target_version)
    if key not in _targets:
        _targets[key] = detect_target(root, settings.target_version)
    return _targets[key]


def check_file(path: str, settings: Settings, mode: Mode) -> FileReport:
    try:
        source = read_source(path)
    except SourceError as error:
        return FileReport(path=path, error=FileError(path, str(error)))
    report = check_text(source.text, path, settings, mode)
    if report.changed and mode.write and report.source is not None:
        try:
            write_atomic(path, source.encode(report.source))
        except (OSError, UnicodeEncodeError) as error:
            report.error = FileError(path, f"cannot write the fixed file: {error}")
            report.changed = False
    return report


_worker_settings: Settings | None = None
_worker_mode: Mode | None = None


def _init_worker(settings: Settings, mode: Mode) -> None:
    global _worker_settings, _worker_mode
    _worker_settings, _worker_mode = settings, mode


def _work(path: str) -> FileReport:
    assert _worker_settings is not None and _worker_mode is not None
    return check_file(path, _worker_settings, _worker_mode)


def default_jobs() -> int:
    return os.cpu_count() or 1


def run(files: list[str], settings: Settings, mode: Mode, jobs: int) -> Iterator[FileReport]:
    """Reports in the order of `files`."""
    if jobs <= 1 or len(files) < _PARALLEL_THRESHOLD:
        for path in files:
            yield check_file(path, settings, mode)
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    chunk = max(1, min(64, len(files) // (jobs * 4)))
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(settings, mode)
    ) as pool:
        yield from pool.map(_work, files, chunksize=chunk)
