"""Run the checker (or fixer) over many files, spread over worker processes.

LibCST, the model and the rules are imported only when some file has to be analysed: a run
answered from the result cache costs little more than reading and hashing the files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace

from prefect_lint.config import Settings, SettingsResolver
from prefect_lint.diagnostics import FileError
from prefect_lint.digest import digest_bytes
from prefect_lint.engine.cache import ResultCache
from prefect_lint.engine.markdown import check_markdown, is_markdown
from prefect_lint.engine.notebook import NotebookError, check_notebook, is_notebook
from prefect_lint.engine.report import FileReport, Mode, Outcome
from prefect_lint.engine.source import SourceError, decode_source, read_source, write_atomic
from prefect_lint.model.root import find_project_root
from prefect_lint.model.target import Target, detect_target, with_text_evidence

# Below this many files a process pool costs more than it saves.
_PARALLEL_THRESHOLD = 16


def _take_outcome(report: FileReport, outcome: Outcome, original: str) -> None:
    report.diagnostics = outcome.diagnostics
    report.fixed = dict(outcome.fixed)
    report.dropped_fixes = outcome.dropped
    report.source = outcome.text
    report.changed = outcome.text != original
    report.cell_sources = outcome.cell_sources


def check_text(
    text: str, path: str, settings: Settings, mode: Mode, *, on_disk: bool = True
) -> FileReport:
    """Check (and maybe fix) one file's text; never raises for bad input.

    `on_disk`: the text is the file's content on disk, which the target detection has seen
    with its project (stdin is not)."""
    from prefect_lint.engine.analysis import FileSetup
    from prefect_lint.model.exports import index_for

    report = FileReport(path=path, source=text, original_source=text)
    codes = settings.codes_for(path)
    decorators = settings.user_decorators
    index = index_for(path, decorators) if path != "-" else None
    target = target_for(path, settings)
    if not on_disk:
        target = with_text_evidence(target, text, path)
    setup = FileSetup(path, codes, index, target, decorators)
    recording = index if index is not None and mode.track_dependencies else None
    if recording is not None:
        recording.start_recording()
    try:
        if is_notebook(path) or is_markdown(path):
            check_document = check_notebook if is_notebook(path) else check_markdown
            try:
                document = check_document(text, setup, mode)
            except NotebookError as error:
                report.error = FileError(path, f"cannot read the notebook: {error}")
                return report
            _take_outcome(report, document, text)
        elif mode.fix:
            _take_outcome(report, setup.fix(text, unsafe=mode.unsafe_fixes), text)
        else:
            report.diagnostics = setup.check(text, render_fixes=mode.render_fixes)
    except Exception as error:  # a bug must not stop the run or touch the file
        report.error = FileError(path, f"internal error: {type(error).__name__}: {error}", io=False)
        report.diagnostics = []
        report.changed = False
        report.source = text
    finally:
        if recording is not None:
            report.dependencies = recording.stop_recording(path)
    return report


_targets: dict[tuple[str, str | None], Target] = {}


def target_for(path: str, settings: Settings) -> Target:
    """The Prefect version `path`'s project runs (per process, per project root)."""
    root = find_project_root(path if path != "-" else os.path.join(os.getcwd(), "-"))
    key = (root, settings.target_version)
    if key not in _targets:
        _targets[key] = detect_target(root, settings.target_version)
    return _targets[key]


def forget_projects() -> None:
    """Forget what this process learnt about projects (their modules' exports, where imports
    lead, their Prefect targets): the next run reads the files as they are then."""
    from prefect_lint.model.exports import forget_indexes

    forget_indexes()
    _targets.clear()


def check_file(path: str, settings: Settings, mode: Mode) -> FileReport:
    try:
        source = read_source(path)
    except SourceError as error:
        return FileReport(path=path, error=FileError(path, str(error)))
    report = check_text(source.text, path, settings, mode)
    if mode.track_dependencies:
        report.digest = digest_bytes(source.data)
    if report.changed and mode.write and report.source is not None:
        try:
            write_atomic(path, source.encode(report.source))
        except (OSError, UnicodeEncodeError) as error:
            # Nothing was written: report the file as `check` would, with the reason.
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            report = check_text(source.text, path, settings, replace(mode, fix=False))
            report.error = FileError(path, f"cannot write the fixed file: {reason}")
    return report


class _Fixed:
    """One Settings for every path (callers that resolved them already)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, path: str) -> Settings:
        return self.settings


SettingsFor = Callable[[str], Settings]


def _settings_for(settings: Settings | SettingsResolver) -> SettingsFor:
    return _Fixed(settings) if isinstance(settings, Settings) else settings


_worker_settings: SettingsFor | None = None
_worker_mode: Mode | None = None


def _init_worker(settings: SettingsFor, mode: Mode) -> None:
    global _worker_settings, _worker_mode
    _worker_settings, _worker_mode = settings, mode


def _work(path: str) -> FileReport:
    assert _worker_settings is not None and _worker_mode is not None
    return check_file(path, _worker_settings(path), _worker_mode)


def default_jobs() -> int:
    return os.cpu_count() or 1


def _run_all(
    files: list[str], settings: SettingsFor, mode: Mode, jobs: int
) -> Iterator[FileReport]:
    if jobs <= 1 or len(files) < _PARALLEL_THRESHOLD:
        for path in files:
            yield check_file(path, settings(path), mode)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    chunk = max(1, min(64, len(files) // (jobs * 4)))
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(settings, mode)
    ) as pool:
        yield from pool.map(_work, files, chunksize=chunk)


def _cache_variant(path: str, settings: Settings) -> str:
    """What besides the enabled codes decides a file's result: the Prefect target and the
    configured wrapper decorators."""
    decorators = settings.user_decorators
    return "|".join(
        [
            target_for(path, settings).version or "",
            ",".join(sorted(decorators.flows)),
            ",".join(sorted(decorators.tasks)),
        ]
    )


def _cached_report(
    path: str, settings: Settings, mode: Mode, cache: ResultCache
) -> FileReport | None:
    """The report of `path` from the cache, or None if it must be analysed."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None  # the analysis reports the problem
    diagnostics = cache.lookup(
        path,
        data,
        settings.codes_for(path),
        _cache_variant(path, settings),
        need_fixes=mode.render_fixes,
        fixing=mode.fix,
        unsafe_fixes=mode.unsafe_fixes,
    )
    if diagnostics is None:
        return None
    text = None
    if diagnostics:
        # Only needed to show excerpts; it decoded when the entry was made (same bytes).
        try:
            text = decode_source(data, path).text
        except SourceError:
            return None
    cells = None
    if text is not None and is_notebook(path):
        from prefect_lint.engine.notebook import NotebookError, read_notebook

        try:
            notebook = read_notebook(text)
        except NotebookError:
            return None
        cells = notebook.cell_sources() if notebook is not None else None
    return FileReport(
        path=path,
        diagnostics=diagnostics,
        source=text,
        original_source=text,
        cached=True,
        cell_sources=cells,
    )


def run(
    files: list[str],
    settings: Settings | SettingsResolver,
    mode: Mode,
    jobs: int,
    cache: ResultCache | None = None,
) -> Iterator[FileReport]:
    """Reports in the order of `files`; with a cache, unchanged files are not analysed.

    `settings` is one Settings for every file, or a resolver giving each file its own (the
    nearest configuration); the cache key uses each file's own settings.
    """
    settings_for = _settings_for(settings)
    if cache is None:
        yield from _run_all(files, settings_for, mode, jobs)
        return
    cached = {
        index: _cached_report(path, settings_for(path), mode, cache)
        for index, path in enumerate(files)
    }
    missing = [path for index, path in enumerate(files) if cached[index] is None]
    analysed = _run_all(missing, settings_for, replace(mode, track_dependencies=True), jobs)
    for index, path in enumerate(files):
        report = cached[index]
        if report is None:
            report = next(analysed)
            if not mode.fix:
                own = settings_for(path)
                cache.store(
                    report,
                    own.codes_for(path),
                    _cache_variant(path, own),
                    rendered=mode.render_fixes,
                )
        yield report
