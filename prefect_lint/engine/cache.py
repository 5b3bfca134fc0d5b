"""The result cache: `check` results per file, reused while nothing they depend on changed.

An entry belongs to one file under one effective configuration: its path, the rules enabled
for it, its variant (the Prefect target and the configured flow and task decorators) and the
project root name the entry file. Inside, it records the digest of the file's bytes and of
every project file the analysis consulted (modules it imports, and the candidate paths that
did not exist, since creating one changes what an import means). A lookup is a hit only if
all of them are unchanged. Entries live in a directory per tool fingerprint (version, source
files, Python, LibCST), so upgrading or editing prefect-lint starts afresh.

Each entry is its own small JSON file, written to a temporary name and renamed into place,
so parallel runs and interrupted writes leave either the old entry, the new one, or none.
Anything unreadable is a miss; nothing here raises into a run.

This module and everything it imports stay free of LibCST and the rules: a run answered
entirely from the cache must not pay for importing them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from prefect_lint import __version__
from prefect_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Position
from prefect_lint.digest import digest_bytes, digest_file
from prefect_lint.engine.report import FileReport
from prefect_lint.engine.source import replace_file
from prefect_lint.model.root import find_project_root

FORMAT = 1
GITIGNORE = "# Created by prefect-lint: the result cache is never committed.\n*\n"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by prefect-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def tool_fingerprint() -> str:
    """Changes whenever the analysis could: the version, its source files, Python, LibCST."""
    import prefect_lint

    parts = [__version__, str(FORMAT), sys.implementation.cache_tag or "", sys.version]
    package = os.path.dirname(os.path.abspath(prefect_lint.__file__))
    # File stats, not contents: cheap, and a development checkout changes them on every edit.
    for directory, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with contextlib.suppress(OSError):
                    stat = os.stat(path)
                    parts.append(
                        f"{os.path.relpath(path, package)}:{stat.st_size}:{stat.st_mtime_ns}"
                    )
    # Where LibCST is installed and its version file's stat, found without importing it.
    for entry in sys.path:
        path = os.path.join(entry or ".", "libcst", "_version.py")
        with contextlib.suppress(OSError):
            stat = os.stat(path)
            parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
            break
    return digest_bytes("\n".join(parts).encode("utf-8"))


def _diagnostic_record(diagnostic: Diagnostic) -> dict[str, Any]:
    fix = diagnostic.fix
    return {
        "code": diagnostic.code,
        "message": diagnostic.message,
        "start": [diagnostic.start.line, diagnostic.start.column],
        "end": [diagnostic.end.line, diagnostic.end.column],
        "cell": diagnostic.cell,
        "fix_title": diagnostic.fix_title,
        "applicability": (
            diagnostic.fix_applicability.value if diagnostic.fix_applicability else None
        ),
        "fix": None
        if fix is None
        else {
            "title": fix.title,
            "applicability": fix.applicability.value,
            "edits": [[edit.start, edit.end, edit.content] for edit in fix.edits],
        },
    }


def _diagnostic(record: dict[str, Any]) -> Diagnostic:
    """Rebuild a diagnostic; any malformed field raises (and the entry counts as a miss)."""
    fix = record["fix"]
    applicability = record["applicability"]
    return Diagnostic(
        code=str(record["code"]),
        message=str(record["message"]),
        start=Position(int(record["start"][0]), int(record["start"][1])),
        end=Position(int(record["end"][0]), int(record["end"][1])),
        fix=None
        if fix is None
        else Fix(
            title=str(fix["title"]),
            applicability=Applicability(fix["applicability"]),
            edits=tuple(Edit(int(s), int(e), str(c)) for s, e, c in fix["edits"]),
        ),
        fix_title=None if record["fix_title"] is None else str(record["fix_title"]),
        fix_applicability=None if applicability is None else Applicability(applicability),
        cell=None if record.get("cell") is None else int(record["cell"]),
    )


class ResultCache:
    """One run's view of the cache directory; `hits` counts the lookups it answered."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.abspath(directory)
        self.bucket = os.path.join(self.directory, f"v{FORMAT}-{tool_fingerprint()}")
        self.hits = 0
        self.write_errors = 0
        self._digests: dict[str, str | None] = {}
        self._listings: dict[str, frozenset[str]] = {}
        self._prepared = False

    # -- keys --------------------------------------------------------------------------------

    def _entry_path(self, path: str, codes: frozenset[str], variant: str | None) -> str:
        absolute = os.path.abspath(path)
        identity = "\0".join(
            [absolute, ",".join(sorted(codes)), variant or "", find_project_root(absolute)]
        )
        key = digest_bytes(identity.encode("utf-8", "surrogateescape"))
        return os.path.join(self.bucket, key[:2], key[2:] + ".json")

    def _listing(self, directory: str) -> frozenset[str]:
        """The names in `directory` (empty if it does not exist), listed once per run.

        Most recorded paths are import candidates that do not exist, many in directories that
        do not exist either: the parent's listing answers those without a system call.
        """
        listing = self._listings.get(directory)
        if listing is None:
            parent, name = os.path.split(directory)
            if parent != directory and parent and name not in self._listing(parent):
                listing = frozenset()
            else:
                try:
                    listing = frozenset(os.listdir(directory))
                except OSError:
                    listing = frozenset()
            self._listings[directory] = listing
        return listing

    def _unchanged(self, directory: str, files: dict[str, str | None]) -> bool:
        listing = self._listing(directory)
        for name, expected in files.items():
            if name not in listing:
                current = None
            else:
                path = os.path.join(directory, name)
                if path not in self._digests:
                    self._digests[path] = digest_file(path)
                current = self._digests[path]
            if current != expected:
                return False
        return True

    # -- reading -----------------------------------------------------------------------------

    def lookup(
        self,
        path: str,
        data: bytes,
        codes: frozenset[str],
        variant: str | None,
        *,
        need_fixes: bool = False,
        fixing: bool = False,
        unsafe_fixes: bool = False,
    ) -> list[Diagnostic] | None:
        """The cached diagnostics of `path` (whose bytes are `data`), or None on a miss.

        `variant`: the rest of what decides the result (`runner._cache_variant`: the Prefect
        target and the configured decorators). `need_fixes`: the caller shows fix edits, so
        an entry without them will not do.
        `fixing`: only an entry with nothing to fix is usable (the file needs no work).
        """
        absolute = os.path.abspath(path)
        digest = digest_bytes(data)
        self._digests[absolute] = digest
        diagnostics = self._read(absolute, digest, codes, variant, need_fixes)
        if (
            diagnostics is not None
            and fixing
            and any(d.fix_applies(unsafe_fixes) for d in diagnostics)
        ):
            diagnostics = None
        if diagnostics is not None:
            self.hits += 1
        return diagnostics

    def _read(
        self,
        absolute: str,
        digest: str,
        codes: frozenset[str],
        variant: str | None,
        need_fixes: bool,
    ) -> list[Diagnostic] | None:
        try:
            with open(self._entry_path(absolute, codes, variant), encoding="utf-8") as handle:
                entry = json.load(handle)
            if entry["path"] != absolute or entry["digest"] != digest:
                return None
            for directory, files in entry["dependencies"].items():
                if not self._unchanged(directory, files):
                    return None
            diagnostics = [_diagnostic(record) for record in entry["diagnostics"]]
            if need_fixes and not entry["rendered"] and any(d.fixable for d in diagnostics):
                return None
            return diagnostics
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            IndexError,
            AttributeError,
            RecursionError,
        ):
            # Absent, half-written, corrupt or from another format: recompute it.
            return None

    # -- writing -----------------------------------------------------------------------------

    def store(
        self, report: FileReport, codes: frozenset[str], variant: str | None, *, rendered: bool
    ) -> None:
        """Record a freshly computed `check` result (never a fixed file's)."""
        if report.error is not None or report.digest is None or report.dependencies is None:
            return
        dependencies: dict[str, dict[str, str | None]] = {}
        for path, digest in report.dependencies.items():
            directory, name = os.path.split(path)
            dependencies.setdefault(directory, {})[name] = digest
        entry = {
            "path": os.path.abspath(report.path),
            "digest": report.digest,
            # directory -> file name -> digest (None: the file did not exist)
            "dependencies": dependencies,
            "rendered": rendered,
            "diagnostics": [_diagnostic_record(d) for d in report.diagnostics],
        }
        entry_path = self._entry_path(report.path, codes, variant)
        try:
            self._prepare()
            os.makedirs(os.path.dirname(entry_path), exist_ok=True)
            _write(entry_path, json.dumps(entry, separators=(",", ":")))
        except OSError:
            # A read-only or full disk makes the cache useless, not the run wrong.
            self.write_errors += 1

    def _prepare(self) -> None:
        if self._prepared:
            return
        os.makedirs(self.directory, exist_ok=True)
        for name, content in ((".gitignore", GITIGNORE), ("CACHEDIR.TAG", CACHEDIR_TAG)):
            path = os.path.join(self.directory, name)
            if not os.path.exists(path):
                _write(path, content)
        self._prepared = True


def _write(path: str, content: str) -> None:
    # Not synced: a lost entry is only a miss.
    replace_file(path, content.encode("utf-8"), sync=False)
