"""The pygls server: open documents, when to check them, diagnostics and code actions.

The event loop only schedules, converts positions and publishes; engine calls run on one worker
thread, which talks to the engine process. This process imports neither LibCST nor the rules
(the engine process does): it starts in a fraction of the time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from prefect_lint import __version__
from prefect_lint.diagnostics import Applicability, Diagnostic, Fix, Position
from prefect_lint.fixes.edits import diff_edits
from prefect_lint.frontends.lsp import MAX_CHARACTERS
from prefect_lint.frontends.lsp.noqa import noqa_edit
from prefect_lint.frontends.lsp.positions import LineIndex
from prefect_lint.frontends.lsp.process import Cancelled, EngineFailure, EngineProcess
from prefect_lint.model.root import find_project_root
from prefect_lint.rule_codes import DOCS_URL, RULE_CODES, SYNTAX_ERROR

SOURCE = "prefect-lint"
FIX_ALL_KIND = "source.fixAll.prefect-lint"
# How long a change waits for the next one before it is checked: a typed character follows
# the previous one within this often enough that a burst of keystrokes is checked once. Short,
# as a check that a newer change makes pointless is stopped anyway (`_schedule`).
DEBOUNCE_SECONDS = 0.05
CHECK_TIMEOUT_SECONDS = 30.0
# Files whose change outside the editor can change a finding: Python modules (the project
# index, 2.x evidence), prefect pins and prefect-lint's configuration.
WATCHED = (
    "**/*.py",
    "**/pyproject.toml",
    "**/setup.cfg",
    "**/requirements*.txt",
    "**/requirements*.in",
    "**/prefect-lint.toml",
    "**/.prefect-lint.toml",
)

log = logging.getLogger("prefect_lint.lsp")
T = TypeVar("T")


# -- the server -------------------------------------------------------------------------------


@dataclass
class Document:
    uri: str
    path: str | None  # None: not a file (an untitled buffer)
    version: int | None
    text: str
    serial: int  # increases with every open and change: a result for an older serial is stale


@dataclass
class Published:
    serial: int
    diagnostics: list[types.Diagnostic] = field(default_factory=list)
    safe_fixes: bool = False


def _kind_wanted(kind: str, only: Sequence[str] | None) -> bool:
    """LSP kinds are hierarchical: `source.fixAll` asks for `source.fixAll.prefect-lint` too."""
    if only is None:
        return True
    return any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in only)


class PrefectLintServer(LanguageServer):
    def __init__(
        self, timeout: float = CHECK_TIMEOUT_SECONDS, engine: EngineProcess | None = None
    ) -> None:
        # Full sync: the server keeps each document as one string, with no incremental patching
        # whose line model (Python's str.splitlines) would differ from LSP's.
        super().__init__(
            SOURCE,
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
            # Jupyter notebooks: the client sends the cells, checked as one module.
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        cells=[types.NotebookCellLanguage(language="python")],
                        notebook="jupyter-notebook",
                    )
                ]
            ),
        )
        self.documents: dict[str, Document] = {}
        self.published: dict[str, Published] = {}
        self.engine = engine if engine is not None else EngineProcess(timeout)
        # One thread talks to the engine process, so requests reach it one at a time.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefect-lint")
        # uri -> digest of a text the engine crashed or hung on: not tried again as it is.
        self._failed: dict[str, str] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._serial = 0
        self._fix_all: dict[str, tuple[int, list[types.TextEdit]]] = {}
        # (uri, serial, code, line, column) -> the rendered fix, for the current text only.
        self._fixes: dict[tuple[str, int, str, int, int], Fix | None] = {}
        self._reported_errors: set[str] = set()
        # notebook uri -> the cell uris diagnostics were last published for.
        self._notebook_cells: dict[str, list[str]] = {}

    # -- helpers ----------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        encoding = self.workspace.position_encoding
        if encoding is None:
            return types.PositionEncodingKind.Utf16.value
        return str(getattr(encoding, "value", encoding))

    @property
    def workspace_root(self) -> str:
        root = self.workspace.root_path
        return root if root else os.getcwd()

    async def _in_worker(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, call, *args)

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _warn_once(self, message: str) -> None:
        if message not in self._reported_errors:
            self._reported_errors.add(message)
            log.warning(message)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )

    def _workspace_edit(
        self, document: Document, edits: list[types.TextEdit]
    ) -> types.WorkspaceEdit:
        capabilities = self.client_capabilities
        workspace = capabilities.workspace if capabilities else None
        edit_support = workspace.workspace_edit if workspace else None
        if edit_support is not None and edit_support.document_changes:
            # Versioned: the client refuses the edit if the document changed meanwhile.
            identifier = types.OptionalVersionedTextDocumentIdentifier(
                uri=document.uri, version=document.version
            )
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=identifier, edits=edits)]
            )
        return types.WorkspaceEdit(changes={document.uri: edits})

    # -- documents --------------------------------------------------------------------------

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        self._store(item.uri, item.version, item.text)
        self._schedule(item.uri, 0.0)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        document = self.documents.get(params.text_document.uri)
        if document is None or not params.content_changes:
            return
        # Full sync: the last change holds the whole text.
        self._store(document.uri, params.text_document.version, params.content_changes[-1].text)
        self._schedule(document.uri, DEBOUNCE_SECONDS)

    async def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        document = self.documents.get(params.text_document.uri)
        if document is None:
            return
        if document.path is None:
            self._schedule(document.uri, 0.0)
            return
        try:
            await self._in_worker(self.engine.call, "forget", document.path)
        except EngineFailure as error:
            log.warning("cannot refresh the project index: %s", error)
        # Other open modules of the project may import what was just saved.
        root = find_project_root(document.path)
        for other in list(self.documents.values()):
            if other.path is not None and find_project_root(other.path) == root:
                self._schedule(other.uri, 0.0)

    # -- files changed outside the editor ---------------------------------------------------

    async def initialized(self) -> None:
        """Ask the client to report changes to Python, pin and configuration files, if it can
        watch files for the server (`workspace/didChangeWatchedFiles`)."""
        capabilities = self.client_capabilities
        workspace = capabilities.workspace if capabilities else None
        watched = workspace.did_change_watched_files if workspace else None
        if watched is None or not watched.dynamic_registration:
            return  # a saved document still refreshes its project (didSave)
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED]
        )
        registration = types.Registration(
            id="prefect-lint-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        try:
            await self.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
        except Exception as error:  # the client said no: didSave still works
            log.warning("cannot watch files: %s", error)

    async def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        """A Python file changed, appeared or went away outside the editor (a checkout, a
        formatter): its project's index and Prefect target are read again. A pin or
        configuration file is noticed by the engine on its own (it compares modification
        times); either way, the open documents are checked again."""
        for change in params.changes:
            if not change.uri.startswith("file:"):
                continue
            path = to_fs_path(change.uri)
            if path is not None and path.endswith(".py") and change.uri not in self.documents:
                try:
                    await self._in_worker(self.engine.call, "forget", path)
                except EngineFailure as error:
                    log.warning("cannot refresh the project index: %s", error)
        for document in list(self.documents.values()):
            self._schedule(document.uri, DEBOUNCE_SECONDS)

    async def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        self._cancel(uri)
        document = self.documents.pop(uri, None)
        self.published.pop(uri, None)
        self._failed.pop(uri, None)
        self._fix_all.pop(uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
        if document is not None and document.path is not None:
            try:
                await self._in_worker(self.engine.call, "close", document.path)
            except EngineFailure as error:
                log.warning("cannot refresh the project index: %s", error)

    # -- notebooks ----------------------------------------------------------------------------
    # pygls keeps the notebook and its cells' text in the workspace; diagnostics are published
    # per cell document. Code actions are offered for files only.

    def did_open_notebook(self, params: types.DidOpenNotebookDocumentParams) -> None:
        self._schedule(params.notebook_document.uri, 0.0, notebook=True)

    def did_change_notebook(self, params: types.DidChangeNotebookDocumentParams) -> None:
        self._schedule(params.notebook_document.uri, DEBOUNCE_SECONDS, notebook=True)

    def did_close_notebook(self, params: types.DidCloseNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        self._cancel(uri)
        for cell in self._notebook_cells.pop(uri, []):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=cell, diagnostics=[])
            )

    async def _lint_notebook(self, uri: str) -> None:
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None:
            return
        version = notebook.version
        cells = [c for c in notebook.cells if c.kind == types.NotebookCellKind.Code]
        texts = [self.workspace.get_text_document(cell.document).source for cell in cells]
        path = to_fs_path(uri) if uri.startswith("file:") else None
        try:
            found, config_error = await self._in_worker(
                self.engine.call, "check_cells", path, self.workspace_root, texts
            )
        except EngineFailure as error:
            self._warn_once(f"prefect-lint: {uri} was not checked: {error}")
            return
        if config_error is not None:
            self._warn_once(f"prefect-lint: {config_error} (using the defaults)")
        current = self.workspace.get_notebook_document(notebook_uri=uri)
        if current is None or current.version != version:
            return  # changed while it was checked: its own check will publish
        uris = [cell.document for cell in cells]
        for position, (cell_uri, text) in enumerate(zip(uris, texts, strict=True)):
            document = Document(cell_uri, None, None, text, self._next_serial())
            lines = LineIndex(text, self.encoding)
            diagnostics = [
                self._to_lsp(d, lines, document) for d in found if d.cell == position + 1
            ]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=cell_uri, diagnostics=diagnostics)
            )
        for stale in set(self._notebook_cells.get(uri, [])) - set(uris):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=stale, diagnostics=[])
            )
        self._notebook_cells[uri] = uris

    def _store(self, uri: str, version: int | None, text: str) -> None:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        self.documents[uri] = Document(uri, path, version, text, self._next_serial())

    def _cancel(self, uri: str) -> None:
        """Drop the check of `uri` that is waiting, and stop the one the engine is running:
        what it would publish is out of date."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
            self.engine.cancel(uri)

    def _schedule(self, uri: str, delay: float, *, notebook: bool = False) -> None:
        """Check `uri` after `delay`; a newer request replaces a pending or running one."""
        self._cancel(uri)
        self._pending[uri] = asyncio.get_running_loop().create_task(
            self._lint(uri, delay, notebook=notebook)
        )

    async def _lint(self, uri: str, delay: float, *, notebook: bool = False) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            if notebook:
                await self._lint_notebook(uri)
                return
            document = self.documents.get(uri)
            if document is None:
                return
            published = await self._check(document)
            current = self.documents.get(uri)
            if published is None or current is None or current.serial != document.serial:
                return  # the text changed while it was checked: its own check will publish
            self.published[uri] = published
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri, version=document.version, diagnostics=published.diagnostics
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("checking %s failed", uri)
        finally:
            if self._pending.get(uri) is asyncio.current_task():
                del self._pending[uri]

    async def _check(self, document: Document) -> Published | None:
        """What to publish for `document`; None if a newer text stopped its check."""
        found: list[Diagnostic] = []
        digest = hashlib.sha256(document.text.encode("utf-8", "surrogatepass")).hexdigest()
        if len(document.text) > MAX_CHARACTERS:
            self._warn_once(
                f"prefect-lint: {document.uri} is not checked: it has more than "
                f"{MAX_CHARACTERS:,} characters"
            )
        elif self._failed.get(document.uri) != digest:
            try:
                found, config_error = await self._in_worker(
                    self.engine.call_cancellable,
                    document.uri,
                    "check",
                    document.path,
                    self.workspace_root,
                    document.text,
                )
                if config_error is not None:
                    self._warn_once(f"prefect-lint: {config_error} (using the defaults)")
            except Cancelled:
                return None
            except EngineFailure as error:
                self._failed[document.uri] = digest
                self._warn_once(f"prefect-lint: {document.uri} was not checked: {error}")
        lines = LineIndex(document.text, self.encoding)
        return Published(
            serial=document.serial,
            diagnostics=[self._to_lsp(d, lines, document) for d in found],
            safe_fixes=any(d.fix_applicability is Applicability.SAFE for d in found),
        )

    def _to_lsp(
        self, diagnostic: Diagnostic, lines: LineIndex, document: Document
    ) -> types.Diagnostic:
        start, end = lines.to_lsp(diagnostic.start), lines.to_lsp(diagnostic.end)
        if (start.line, start.character) == (end.line, end.character):
            # An empty range is invisible in most editors: cover the character there.
            offset = lines.from_lsp(start)
            if offset < lines.line_end(start.line):
                end = lines.offset_to_lsp(offset + 1)
        fix_data = None
        if diagnostic.fix_applicability is not None and diagnostic.fix_title is not None:
            fix_data = {
                "title": diagnostic.fix_title,
                "applicability": diagnostic.fix_applicability.value,
            }
        return types.Diagnostic(
            range=types.Range(start=start, end=end),
            message=diagnostic.message,
            severity=(
                types.DiagnosticSeverity.Error
                if diagnostic.code == SYNTAX_ERROR
                else types.DiagnosticSeverity.Warning
            ),
            code=diagnostic.code,
            code_description=(
                types.CodeDescription(href=DOCS_URL.format(code=diagnostic.code))
                if diagnostic.code in RULE_CODES
                else None
            ),
            source=SOURCE,
            # Enough to rebuild the fix on request: its edits are rendered only then, as
            # rendering rewrites the whole module (too slow for every keystroke).
            data={
                "version": document.version,
                "start": [diagnostic.start.line, diagnostic.start.column],
                "fix": fix_data,
            },
        )

    # -- code actions -----------------------------------------------------------------------

    async def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        document = self.documents.get(params.text_document.uri)
        if document is None:
            return None
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _kind_wanted(types.CodeActionKind.QuickFix, only):
            actions += await self._quick_fixes(document, params.context.diagnostics)
        if _kind_wanted(FIX_ALL_KIND, only):
            action = await self._fix_all_action(document, explicit=only is not None)
            if action is not None:
                actions.append(action)
        return actions

    def _data_of(self, document: Document, diagnostic: types.Diagnostic) -> dict[str, Any] | None:
        """The diagnostic's `data`; looked up in what was published if the client dropped it."""
        if isinstance(diagnostic.data, dict):
            return diagnostic.data
        published = self.published.get(document.uri)
        for candidate in published.diagnostics if published else []:
            if candidate.code == diagnostic.code and candidate.range == diagnostic.range:
                return candidate.data if isinstance(candidate.data, dict) else None
        return None

    async def _quick_fixes(
        self, document: Document, diagnostics: Sequence[types.Diagnostic]
    ) -> list[types.CodeAction]:
        fixes: list[types.CodeAction] = []
        suppressions: list[types.CodeAction] = []
        suppressed: set[tuple[int, str]] = set()
        lines = LineIndex(document.text, self.encoding)
        for diagnostic in diagnostics:
            code = diagnostic.code
            if diagnostic.source != SOURCE or not isinstance(code, str):
                continue
            data = self._data_of(document, diagnostic)
            if data is None or data.get("version") != document.version:
                continue  # reported for an older text: its ranges no longer hold
            fix = data.get("fix")
            if isinstance(fix, dict):
                action = await self._fix_action(document, diagnostic, code, data)
                if action is not None:
                    fixes.append(action)
            line = diagnostic.range.start.line
            if code != SYNTAX_ERROR and (line, code) not in suppressed:
                suppressed.add((line, code))
                edit = await self._in_worker(noqa_edit, lines, line, code)
                if edit is not None:
                    text_edit = types.TextEdit(
                        range=lines.range_of(edit[0], edit[1]), new_text=edit[2]
                    )
                    suppressions.append(
                        types.CodeAction(
                            title=f"Suppress {code} with `# noqa: {code}`",
                            kind=types.CodeActionKind.QuickFix,
                            diagnostics=[diagnostic],
                            edit=self._workspace_edit(document, [text_edit]),
                        )
                    )
        return fixes + suppressions

    async def _fix_action(
        self, document: Document, diagnostic: types.Diagnostic, code: str, data: dict[str, Any]
    ) -> types.CodeAction | None:
        try:
            line, column = (int(n) for n in data["start"])
            safe = data["fix"]["applicability"] == Applicability.SAFE.value
            title = f"{code}: {data['fix']['title']}" + ("" if safe else " (unsafe)")
        except (KeyError, TypeError, ValueError):
            return None  # not data this server wrote
        key = (document.uri, document.serial, code, line, column)
        if key not in self._fixes:
            try:
                fix = await self._in_worker(
                    self.engine.call,
                    "fix_for",
                    document.path,
                    self.workspace_root,
                    document.text,
                    code,
                    Position(line, column),
                )
            except EngineFailure as error:
                self._warn_once(f"prefect-lint: fixing {document.uri} failed: {error}")
                return None
            self._fixes = {k: v for k, v in self._fixes.items() if k[:2] == key[:2]}
            self._fixes[key] = fix
        fix = self._fixes[key]
        if fix is None or not fix.edits:
            return None
        lines = LineIndex(document.text, self.encoding)
        edits = [
            types.TextEdit(range=lines.range_of(edit.start, edit.end), new_text=edit.content)
            for edit in fix.edits
        ]
        return types.CodeAction(
            title=title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            is_preferred=safe,
            edit=self._workspace_edit(document, edits),
        )

    def _resolves_edits(self) -> bool:
        """Whether the client can fetch a code action's edit later (codeAction/resolve)."""
        capabilities = self.client_capabilities
        text_document = capabilities.text_document if capabilities else None
        code_action = text_document.code_action if text_document else None
        resolve = code_action.resolve_support if code_action else None
        return resolve is not None and "edit" in resolve.properties

    async def _fix_all_action(
        self, document: Document, *, explicit: bool
    ) -> types.CodeAction | None:
        action = types.CodeAction(title="Fix all safe prefect-lint findings", kind=FIX_ALL_KIND)
        if not explicit:
            # The light bulb asks on every cursor move, and the fix loop can take seconds: offer
            # it when a safe fix is known, and compute the edit only if it is chosen.
            published = self.published.get(document.uri)
            if published is None or published.serial != document.serial:
                return None
            if not published.safe_fixes or not self._resolves_edits():
                return None
            action.data = {"uri": document.uri, "version": document.version}
            return action
        edits = await self._fix_all_edits(document)
        if not edits:
            return None
        action.edit = self._workspace_edit(document, edits)
        return action

    async def resolve_code_action(self, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        document = self.documents.get(str(data.get("uri")))
        if action.kind != FIX_ALL_KIND or document is None:
            return action
        if data.get("version") != document.version:
            return action  # the text changed since it was offered: no edit rather than a wrong one
        edits = await self._fix_all_edits(document)
        if edits:
            action.edit = self._workspace_edit(document, edits)
        return action

    async def _fix_all_edits(self, document: Document) -> list[types.TextEdit]:
        cached = self._fix_all.get(document.uri)
        if cached is not None and cached[0] == document.serial:
            return cached[1]
        try:
            fixed = await self._in_worker(
                self.engine.call, "fix_all", document.path, self.workspace_root, document.text
            )
        except EngineFailure as error:
            self._warn_once(f"prefect-lint: fixing {document.uri} failed: {error}")
            return []
        lines = LineIndex(document.text, self.encoding)
        edits = [
            types.TextEdit(range=lines.range_of(edit.start, edit.end), new_text=edit.content)
            for edit in diff_edits(document.text, fixed)
        ]
        self._fix_all[document.uri] = (document.serial, edits)
        return edits


def _forward(method: Callable[[PrefectLintServer, Any], None]) -> Callable[..., None]:
    def handle(ls: PrefectLintServer, params: Any) -> None:
        method(ls, params)

    return handle


def _forward_async(
    method: Callable[[PrefectLintServer, Any], Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    async def handle(ls: PrefectLintServer, params: Any) -> None:
        await method(ls, params)

    return handle


def build_server(
    timeout: float = CHECK_TIMEOUT_SECONDS, engine: EngineProcess | None = None
) -> PrefectLintServer:
    server = PrefectLintServer(timeout, engine)

    # pygls marks handler functions with attributes, so they are functions, not bound methods:
    # each notification gets its own function that calls the server's method of that name.
    for notification, handle in (
        (types.TEXT_DOCUMENT_DID_OPEN, PrefectLintServer.did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, PrefectLintServer.did_change),
        (types.NOTEBOOK_DOCUMENT_DID_OPEN, PrefectLintServer.did_open_notebook),
        (types.NOTEBOOK_DOCUMENT_DID_CHANGE, PrefectLintServer.did_change_notebook),
        (types.NOTEBOOK_DOCUMENT_DID_CLOSE, PrefectLintServer.did_close_notebook),
    ):
        server.feature(notification)(_forward(handle))
    for notification, handle_async in (
        (types.TEXT_DOCUMENT_DID_SAVE, PrefectLintServer.did_save),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, PrefectLintServer.did_change_watched_files),
        (types.TEXT_DOCUMENT_DID_CLOSE, PrefectLintServer.did_close),
    ):
        server.feature(notification)(_forward_async(handle_async))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PrefectLintServer, params: types.InitializedParams) -> None:
        await ls.initialized()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True
        ),
    )
    async def code_action(
        ls: PrefectLintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        return await ls.code_action(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_code_action(
        ls: PrefectLintServer, params: types.CodeAction
    ) -> types.CodeAction:
        return await ls.resolve_code_action(params)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: PrefectLintServer, params: None) -> None:
        ls.worker.shutdown(wait=False, cancel_futures=True)
        ls.engine.stop()

    return server


def serve(timeout: float = CHECK_TIMEOUT_SECONDS, engine: EngineProcess | None = None) -> int:
    """Speak LSP on stdin/stdout until the client says `exit`; `engine`: one already spawned
    (`prefect-lint server` spawns it before it imports pygls, so both imports overlap)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    protocol_out = sys.stdout.buffer
    # Anything printed by accident must not corrupt the protocol stream.
    sys.stdout = sys.stderr
    server = build_server(timeout, engine)
    # The engine process starts (and imports LibCST and the rules) while the client and the
    # server shake hands: the first document opened need not wait for it.
    server.worker.submit(server.engine.start)
    try:
        server.start_io(sys.stdin.buffer, protocol_out)
    finally:
        server.engine.stop()
    return 0
