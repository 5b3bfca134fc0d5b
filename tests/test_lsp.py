"""The language server end to end: a real LSP client talking to `python -m prefect_lint server`.

Fix edits are applied by this file's own position conversion (not the server's) and compared
with what `prefect-lint check --fix` writes, so editor and CLI cannot drift apart.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402

from prefect_lint.rules import rule_meta  # noqa: E402
from tests.helpers import run_cli  # noqa: E402

# One event loop for the module: the shared server's connection lives in it.
pytestmark = pytest.mark.asyncio(loop_scope="module")

TIMEOUT = 30.0

WAIT_IMPORT = """\
from prefect import flow, wait


@flow
def parent() -> None:
    wait([])
"""

WAIT_IMPORT_FIXED = """\
from prefect import flow
from prefect.futures import wait


@flow
def parent() -> None:
    wait([])
"""

CLEAN = WAIT_IMPORT_FIXED

STEPS_TASK = "from prefect import task\n\n\n@task\ndef child(n: int) -> int:\n    return n\n"


class RecordingClient(LanguageClient):
    """The pytest-lsp client, also keeping every publishDiagnostics in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[types.PublishDiagnosticsParams] = []
        self.registrations: list[types.Registration] = []


def _record(client: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
    client.history.append(params)
    client.diagnostics[params.uri] = params.diagnostics


def _register(client: RecordingClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def _make_client() -> RecordingClient:
    client = RecordingClient(converter_factory=default_converter)
    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _record,
            types.CLIENT_REGISTER_CAPABILITY: _register,
        },
    )
    return client


SERVER = [sys.executable, "-m", "prefect_lint", "server"]


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=_make_client), scope="module"
)
async def lsp(
    client: RecordingClient, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[None]:
    """One server for the module (starting one costs seconds); each test has its own files."""
    await _start(client, tmp_path_factory.mktemp("workspace"))
    yield
    await client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=_make_client),
    loop_scope="module",
)
async def fresh_lsp(client: RecordingClient) -> AsyncIterator[None]:
    """A server of its own, not initialized yet."""
    yield
    await client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[*SERVER, "--timeout", "1"], client_factory=_make_client
    ),
    loop_scope="module",
)
async def impatient_lsp(client: RecordingClient) -> AsyncIterator[None]:
    yield
    await client.shutdown_session()


async def _start(
    client: RecordingClient, root: Path, encodings: Sequence[str] | None = None
) -> types.InitializeResult:
    capabilities = client_capabilities("visual-studio-code")
    if encodings is not None:
        capabilities.general = types.GeneralClientCapabilities(position_encodings=list(encodings))
    return await client.initialize_session(
        types.InitializeParams(capabilities=capabilities, root_uri=root.as_uri())
    )


def _open(client: RecordingClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )
    return uri


def _change(client: RecordingClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def _published(
    client: RecordingClient, uri: str, version: int | None = None, after: int = 0
) -> types.PublishDiagnosticsParams:
    """The first publication for `uri` (at `version`) among those from index `after` on."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while loop.time() < deadline:
        for params in client.history[after:]:
            if params.uri == uri and (version is None or params.version == version):
                return params
        await asyncio.sleep(0.02)
    raise AssertionError(f"no diagnostics published for {uri} version {version}")


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _offset(text: str, position: types.Position, encoding: str = "utf-16") -> int:
    lines = re.split(r"(?<=\r\n)|(?<=\n)|(?<=\r)(?!\n)", text)
    offset = sum(len(line) for line in lines[: position.line])
    line = lines[position.line].rstrip("\r\n") if position.line < len(lines) else ""
    for count in range(len(line) + 1):
        if _units(line[:count], encoding) >= position.character:
            return offset + count
    return offset + len(line)


def _apply(text: str, edit: types.WorkspaceEdit, uri: str, encoding: str = "utf-16") -> str:
    if edit.document_changes:
        [change] = edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        edits = list(change.edits)
    else:
        assert edit.changes is not None
        edits = list(edit.changes[uri])
    spans = [
        (_offset(text, e.range.start, encoding), _offset(text, e.range.end, encoding), e.new_text)
        for e in edits
    ]
    for start, end, new_text in sorted(spans, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


async def _actions(
    client: RecordingClient,
    uri: str,
    diagnostics: Sequence[types.Diagnostic],
    only: list[str] | None = None,
) -> list[types.CodeAction]:
    start = diagnostics[0].range.start if diagnostics else types.Position(line=0, character=0)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=start, end=start),
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
        )
    )
    return [action for action in result or [] if isinstance(action, types.CodeAction)]


def _cli_fixed(path: Path, *extra: str) -> str:
    """What `prefect-lint check --fix` makes of the file's text (stdin mode prints it)."""
    result = run_cli(
        "check", "--fix", *extra, "--stdin-filename", str(path), "-",
        cwd=path.parent,
        stdin=path.read_text(),
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


# -- diagnostics -------------------------------------------------------------------------------


async def test_open_publishes_what_the_cli_reports(lsp: RecordingClient, tmp_path: Path) -> None:
    path = tmp_path / "flows.py"
    text = WAIT_IMPORT + "\n\n@flow\ndef other() -> None:\n    parent.submit()\n"
    path.write_text(text)
    uri = _open(lsp, path, text, version=7)
    published = await _published(lsp, uri)
    assert published.version == 7

    cli = run_cli("check", "--output-format", "json", "flows.py", cwd=tmp_path)
    expected = [
        (r["code"], r["location"]["row"] - 1, r["location"]["column"] - 1, r["message"], r["url"])
        for r in json.loads(cli.stdout)
    ]
    got = [
        (
            d.code,
            d.range.start.line,
            d.range.start.character,
            d.message,
            d.code_description.href if d.code_description else None,
        )
        for d in published.diagnostics
    ]
    assert got == expected
    assert {code for code, *_ in got} == {"PFL105", "PFL101"}
    for diagnostic in published.diagnostics:
        assert diagnostic.source == "prefect-lint"
        assert diagnostic.severity == types.DiagnosticSeverity.Warning
        meta = rule_meta(str(diagnostic.code))
        assert meta is not None and diagnostic.code_description is not None
        assert diagnostic.code_description.href == meta.url
    pfl105 = next(d for d in published.diagnostics if d.code == "PFL105")
    assert pfl105.range == types.Range(
        start=types.Position(line=0, character=26), end=types.Position(line=0, character=30)
    )
    assert pfl105.data["fix"]["applicability"] == "safe"


async def test_a_burst_of_changes_is_checked_once_for_its_latest_version(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    path = tmp_path / "flows.py"
    uri = _open(lsp, path, CLEAN, version=1)
    opened = await _published(lsp, uri, version=1)
    assert not opened.diagnostics

    mark = len(lsp.history)
    _change(lsp, uri, WAIT_IMPORT, version=2)
    _change(lsp, uri, WAIT_IMPORT.replace("wait([])", "wait([]); wait([])"), version=3)
    final = "from prefect import flow, as_completed\n" + CLEAN
    _change(lsp, uri, final, version=4)
    published = await _published(lsp, uri, version=4, after=mark)
    await asyncio.sleep(0.5)  # anything published late for an older version would show now

    later = [p for p in lsp.history[mark:] if p.uri == uri]
    assert [p.version for p in later] == [4]
    assert [(d.code, d.range.start.line) for d in published.diagnostics] == [("PFL105", 0)]
    assert "as_completed" in published.diagnostics[0].message


async def test_a_change_during_a_check_is_published_and_the_old_text_never(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    """The check of a long text is under way when the text changes: it is stopped (or its
    result dropped), and only the new text's diagnostics are ever published."""
    slow = WAIT_IMPORT + "".join(
        f"\n\n@flow\ndef other_{n}() -> None:\n    parent.submit()\n" for n in range(1500)
    )
    uri = _open(lsp, tmp_path / "flows.py", slow, version=1)
    mark = len(lsp.history)
    await asyncio.sleep(0.3)  # the engine has started on version 1
    _change(lsp, uri, WAIT_IMPORT, version=2)
    published = await _published(lsp, uri, version=2, after=mark)
    assert [d.code for d in published.diagnostics] == ["PFL105"]
    await asyncio.sleep(0.5)
    assert [p.version for p in lsp.history[mark:] if p.uri == uri] == [2]


async def test_close_clears_the_diagnostics(lsp: RecordingClient, tmp_path: Path) -> None:
    uri = _open(lsp, tmp_path / "flows.py", WAIT_IMPORT)
    assert (await _published(lsp, uri, version=1)).diagnostics
    mark = len(lsp.history)
    lsp.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    cleared = await _published(lsp, uri, after=mark)
    assert not cleared.diagnostics


@pytest.mark.parametrize(
    ("encodings", "expected"),
    [
        (None, "utf-16"),  # the LSP default: the emoji is two code units
        (["utf-8", "utf-16"], "utf-8"),  # negotiated: four bytes
        (["utf-32"], "utf-32"),  # negotiated: one code point
    ],
)
async def test_columns_are_in_the_negotiated_encoding(
    fresh_lsp: RecordingClient,
    tmp_path: Path,
    encodings: list[str] | None,
    expected: str,
) -> None:
    lsp = fresh_lsp
    result = await _start(lsp, tmp_path, encodings)
    assert (result.capabilities.position_encoding or "utf-16") == expected
    prefix = 'label = "\U0001f600 ok"; '
    text = prefix + WAIT_IMPORT
    path = tmp_path / "flows.py"
    path.write_text(text, encoding="utf-8")
    uri = _open(lsp, path, text)
    [diagnostic] = (await _published(lsp, uri)).diagnostics
    column = text.index("wait")  # in code points
    width = {"utf-16": 1, "utf-8": 3, "utf-32": 0}[expected]  # extra units for the emoji
    assert diagnostic.range.start == types.Position(line=0, character=column + width)
    assert diagnostic.range.end == types.Position(line=0, character=column + width + 4)

    [fix] = [a for a in await _actions(lsp, uri, [diagnostic]) if a.title.startswith("PFL105")]
    assert fix.edit is not None
    assert _apply(text, fix.edit, uri, expected) == _cli_fixed(path)


async def test_syntax_error_is_an_error_with_a_visible_range(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    text = "from prefect import flow\n\n@flow\ndef f(:\n    pass\n"
    uri = _open(lsp, tmp_path / "broken.py", text)
    [diagnostic] = (await _published(lsp, uri)).diagnostics
    assert diagnostic.code == "PFL000"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range.start == types.Position(line=3, character=6)
    assert diagnostic.range.end == types.Position(line=3, character=7)
    actions = await _actions(lsp, uri, [diagnostic])
    assert actions == []  # PFL000 has no fix and cannot be suppressed


async def test_bad_input_never_stops_the_server(lsp: RecordingClient, tmp_path: Path) -> None:
    # LibCST's native parser overflows its stack on this; Python's parser rejects it first.
    nested = "import prefect\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    uri = _open(lsp, tmp_path / "nested.py", nested)
    [diagnostic] = (await _published(lsp, uri)).diagnostics
    assert diagnostic.code == "PFL000"
    assert "too many nested parentheses" in diagnostic.message
    huge = "import prefect\n" + "x = 1\n" * 400_000
    odd = "import prefect\n\x00\x01\ud800\n"
    for name, text in [("huge.py", huge), ("odd.py", odd)]:
        uri = _open(lsp, tmp_path / name, text)
        assert not (await _published(lsp, uri)).diagnostics
    messages = [m.message for m in lsp.messages]
    assert any("huge.py is not checked: it has more than" in m for m in messages)
    uri = _open(lsp, tmp_path / "flows.py", WAIT_IMPORT)
    assert [d.code for d in (await _published(lsp, uri)).diagnostics] == ["PFL105"]


async def test_a_check_that_takes_too_long_is_stopped(
    impatient_lsp: RecordingClient, tmp_path: Path
) -> None:
    lsp = impatient_lsp
    await _start(lsp, tmp_path)
    # Valid, and far too long to check in a second (LibCST parses some 15k lines/s): the
    # overdue engine process is replaced, the same way as one that crashed.
    slow = "import prefect\n" + "x = 1\n" * 150_000
    uri = _open(lsp, tmp_path / "slow.py", slow)
    assert not (await _published(lsp, uri)).diagnostics
    assert any("slow.py was not checked: took longer than 1 s" in m.message for m in lsp.messages)
    uri = _open(lsp, tmp_path / "flows.py", WAIT_IMPORT)
    assert [d.code for d in (await _published(lsp, uri)).diagnostics] == ["PFL105"]


# -- the project: index, configuration --------------------------------------------------------


async def test_cross_module_finding_and_refresh_on_save(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "etl"\n')
    steps = tmp_path / "steps.py"
    steps.write_text(
        "from prefect import task\n\n\n@task\ndef child(n: int) -> int:\n    return n\n"
    )
    flows = tmp_path / "flows.py"
    flows_text = (
        "from prefect import flow\n"
        "from prefect.futures import wait\n\n"
        "from steps import child\n\n\n"
        "@flow\n"
        "def parent() -> None:\n"
        "    wait([child.submit(1)])\n"
    )
    flows.write_text(flows_text)
    flows_uri = _open(lsp, flows, flows_text)
    assert not (await _published(lsp, flows_uri)).diagnostics

    # `child` becomes a flow in steps.py: saved, the open importer is checked again.
    steps_text = steps.read_text().replace("import task", "import flow").replace("@task", "@flow")
    steps_uri = _open(lsp, steps, steps.read_text())
    await _published(lsp, steps_uri)
    mark = len(lsp.history)
    _change(lsp, steps_uri, steps_text, version=2)
    steps.write_text(steps_text)
    lsp.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=steps_uri))
    )
    published = await _published(lsp, flows_uri, after=mark)
    assert [(d.code, d.range.start.line) for d in published.diagnostics] == [("PFL101", 8)]


def _watched(client: RecordingClient, *changes: tuple[Path, types.FileChangeType]) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=kind) for path, kind in changes]
        )
    )


async def test_files_changed_outside_the_editor_are_seen(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    """workspace/didChangeWatchedFiles: a module changed on disk (a checkout) refreshes the
    project index; a new prefect pin changes the cached Prefect target."""
    [registration] = lsp.registrations  # the client can watch files (VS Code's capabilities)
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "etl"\n')
    steps = tmp_path / "steps.py"
    steps.write_text(
        "from prefect import task\n\n\n@task\ndef child(n: int) -> int:\n    return n\n"
    )
    text = (
        "from prefect import flow, wait\n\n"
        "from steps import child\n\n\n"
        "@flow\n"
        "def parent() -> None:\n"
        "    wait([child.submit(1)])\n"
    )
    uri = _open(lsp, tmp_path / "flows.py", text)
    assert [d.code for d in (await _published(lsp, uri)).diagnostics] == ["PFL105"]

    steps.write_text(steps.read_text().replace("task", "flow"))
    mark = len(lsp.history)
    _watched(lsp, (steps, types.FileChangeType.Changed))
    published = await _published(lsp, uri, after=mark)
    assert [d.code for d in published.diagnostics] == ["PFL105", "PFL101"]

    # Prefect 2 pinned: `from prefect import wait` is fine there (PFL105 is 3.x only).
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "etl"\ndependencies = ["prefect==2.19.1"]\n'
    )
    mark = len(lsp.history)
    _watched(lsp, (tmp_path / "pyproject.toml", types.FileChangeType.Changed))
    published = await _published(lsp, uri, after=mark)
    assert [d.code for d in published.diagnostics] == ["PFL101"]


async def test_open_modules_are_seen_as_typed_and_kept_while_they_do_not_parse(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    """Another open module counts with its unsaved text; while it is half-typed (a syntax
    error), the project keeps its last text that parsed instead of reading the file."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "etl"\n')
    steps = tmp_path / "steps.py"
    on_disk = STEPS_TASK
    steps.write_text(on_disk)
    flows = tmp_path / "flows.py"
    text = (
        "from prefect import flow\nfrom prefect.futures import wait\n\n"
        "from steps import child\n\n\n"
        "@flow\n"
        "def parent() -> None:\n"
        "    wait([child.submit(1)])\n"
    )
    flows.write_text(text)
    flows_uri = _open(lsp, flows, text)
    assert not (await _published(lsp, flows_uri)).diagnostics  # `child` is a task on disk
    steps_uri = _open(lsp, steps, on_disk)
    await _published(lsp, steps_uri)
    as_flow = on_disk.replace("import task", "import flow").replace("@task", "@flow")
    mark = len(lsp.history)
    _change(lsp, steps_uri, as_flow, version=2)  # unsaved
    await _published(lsp, steps_uri, version=2, after=mark)
    mark = len(lsp.history)
    _change(lsp, steps_uri, as_flow + "def broken(:\n", version=3)
    assert [d.code for d in (await _published(lsp, steps_uri, 3, after=mark)).diagnostics] == [
        "PFL000"
    ]
    # Another file is saved: every open module of the project is checked again, flows.py
    # first (opened first), while steps.py still does not parse.
    (tmp_path / "other.py").write_text("x = 1\n")
    other_uri = _open(lsp, tmp_path / "other.py", "x = 1\n")
    mark = len(lsp.history)
    lsp.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=other_uri))
    )
    published = await _published(lsp, flows_uri, after=mark)
    assert [d.code for d in published.diagnostics] == ["PFL101"]  # not the task on disk


async def test_project_configuration_is_honoured_per_file(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.prefect-lint]\n"
        'extend-exclude = ["generated"]\n'
        '[tool.prefect-lint.per-file-ignores]\n"legacy/*.py" = ["PFL105"]\n'
    )
    for directory in ("legacy", "generated", "app"):
        (tmp_path / directory).mkdir()
    text = WAIT_IMPORT + "\n\n@flow\ndef other() -> None:\n    parent.submit()\n"
    codes = {}
    for directory in ("legacy", "generated", "app"):
        uri = _open(lsp, tmp_path / directory / "flows.py", text)
        codes[directory] = [d.code for d in (await _published(lsp, uri)).diagnostics]
    assert codes == {"legacy": ["PFL101"], "generated": [], "app": ["PFL105", "PFL101"]}


async def test_monorepo_files_get_their_nearest_configuration(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    """The same findings as `prefect-lint check` for every package of a monorepo."""
    from tests.monorepo import CODE, EXPECTED, build_monorepo

    mono = build_monorepo(tmp_path / "mono")
    codes = {}
    for name in EXPECTED:
        uri = _open(lsp, mono / name, CODE)
        codes[name] = [d.code for d in (await _published(lsp, uri)).diagnostics]
    assert codes == EXPECTED


async def test_notebook_cells_are_checked_as_one_module(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    """notebookDocument sync: the cells (magics skipped) as `prefect-lint check` joins an
    `.ipynb` file's, diagnostics published per cell; a change re-checks; close clears."""
    (tmp_path / ".git").mkdir()
    notebook_uri = (tmp_path / "etl.ipynb").as_uri()
    texts = [
        "%pip install prefect\nfrom prefect import flow, task, wait",
        "@task\ndef extract(n: int) -> int:\n    return n",
        "@flow\ndef etl() -> None:\n    extract.submit(1)\n    wait([])",
    ]
    cells = [f"vscode-notebook-cell:{tmp_path / 'etl.ipynb'}#cell{n}" for n in range(3)]
    lsp.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[
                    types.NotebookCell(kind=types.NotebookCellKind.Code, document=uri)
                    for uri in cells
                ],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
                for uri, text in zip(cells, texts, strict=True)
            ],
        )
    )
    published = [await _published(lsp, uri) for uri in cells]
    assert [
        [(d.code, d.range.start.line, d.range.start.character) for d in p.diagnostics]
        for p in published
    ] == [[("PFL105", 1, 32)], [], [("PFL102", 2, 4)]]
    after = len(lsp.history)
    lsp.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(
                uri=notebook_uri, version=2
            ),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(uri=cells[0], version=2),
                            changes=[
                                types.TextDocumentContentChangeWholeDocument(
                                    text="from prefect import flow, task\n"
                                    "from prefect.futures import wait"
                                )
                            ],
                        )
                    ]
                )
            ),
        )
    )
    fixed = await _published(lsp, cells[0], after=after)
    assert not fixed.diagnostics
    assert [d.code for d in (await _published(lsp, cells[2], after=after)).diagnostics] == [
        "PFL102"
    ]
    before_close = len(lsp.history)
    lsp.notebook_document_did_close(
        types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=notebook_uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=uri) for uri in cells],
        )
    )
    cleared = await _published(lsp, cells[2], after=before_close)
    assert not cleared.diagnostics


# -- code actions -----------------------------------------------------------------------------


async def test_quick_fixes_safe_preferred_and_unsafe_marked(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    text = (
        "from prefect import flow, task, wait\n\n\n"
        "@task\ndef load() -> dict[str, int]:\n    return {'rows': 3}\n\n\n"
        "@flow\ndef parent() -> int:\n    wait([])\n"
        "    stats = load.submit()\n"
        "    return stats['rows']\n"
    )
    path = tmp_path / "flows.py"
    path.write_text(text)
    uri = _open(lsp, path, text)
    diagnostics = (await _published(lsp, uri)).diagnostics
    by_code = {d.code: d for d in diagnostics}
    assert set(by_code) == {"PFL105", "PFL108"}

    safe = [a for a in await _actions(lsp, uri, [by_code["PFL105"]]) if a.is_preferred]
    assert [a.title for a in safe] == ["PFL105: Import from `prefect.futures`"]
    assert safe[0].kind == types.CodeActionKind.QuickFix
    assert list(safe[0].diagnostics or []) == [by_code["PFL105"]]
    assert safe[0].edit is not None
    assert _apply(text, safe[0].edit, uri) == _cli_fixed(path, "--select", "PFL105")

    unsafe = [
        a
        for a in await _actions(lsp, uri, [by_code["PFL108"]], only=["quickfix"])
        if not a.title.startswith("Suppress")
    ]
    assert len(unsafe) == 1 and unsafe[0].title.endswith("(unsafe)")
    assert not unsafe[0].is_preferred
    assert unsafe[0].edit is not None
    fixed = _apply(text, unsafe[0].edit, uri)
    assert "stats.result()['rows']" in fixed
    assert fixed == _cli_fixed(path, "--select", "PFL108", "--unsafe-fixes")


async def test_suppress_adds_or_merges_a_noqa_comment(lsp: RecordingClient, tmp_path: Path) -> None:
    plain = "from prefect import flow, wait\n"
    commented = "from prefect import flow, wait  # noqa: E501 keep this note\n"
    for name, text, expected in [
        ("plain.py", plain, "from prefect import flow, wait  # noqa: PFL105\n"),
        (
            "commented.py",
            commented,
            "from prefect import flow, wait  # noqa: E501, PFL105 keep this note\n",
        ),
    ]:
        uri = _open(lsp, tmp_path / name, text)
        [diagnostic] = (await _published(lsp, uri)).diagnostics
        [action] = [a for a in await _actions(lsp, uri, [diagnostic]) if a.title.startswith("Sup")]
        assert action.title == "Suppress PFL105 with `# noqa: PFL105`"
        assert action.edit is not None
        suppressed = _apply(text, action.edit, uri)
        assert suppressed == expected
        mark = len(lsp.history)
        _change(lsp, uri, suppressed, version=2)
        assert not (await _published(lsp, uri, version=2, after=mark)).diagnostics


async def test_no_suppression_where_a_comment_cannot_go(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    # The finding's line ends inside a triple-quoted string: a `#` there is not a comment.
    text = 'from prefect import flow, wait; NOTE = """\nsee docs\n"""\n'
    uri = _open(lsp, tmp_path / "flows.py", text)
    [diagnostic] = (await _published(lsp, uri)).diagnostics
    actions = await _actions(lsp, uri, [diagnostic], only=[types.CodeActionKind.QuickFix])
    assert [a.title for a in actions] == ["PFL105: Import from `prefect.futures`"]


async def test_fix_all_applies_every_safe_fix_like_the_cli(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    text = (
        "from prefect import flow, task, wait\n\n\n"
        "@task\ndef double(n: int) -> int:\n    return n * 2\n\n\n"
        "@flow\ndef parent() -> None:\n"
        "    futures = [double.submit(n) for n in range(3)]\n"
        "    wait(futures[0])\n"
        "    double.submit(5)\n"
    )
    path = tmp_path / "flows.py"
    path.write_text(text)
    uri = _open(lsp, path, text)
    diagnostics = (await _published(lsp, uri)).diagnostics
    assert len({d.code for d in diagnostics}) >= 2

    actions = await _actions(lsp, uri, [], only=[types.CodeActionKind.SourceFixAll])
    assert [a.kind for a in actions] == ["source.fixAll.prefect-lint"]
    assert actions[0].edit is not None
    fixed = _apply(text, actions[0].edit, uri)
    assert fixed != text
    assert fixed == _cli_fixed(path)

    quick_only = await _actions(lsp, uri, diagnostics, only=[types.CodeActionKind.QuickFix])
    assert quick_only and all(a.kind == types.CodeActionKind.QuickFix for a in quick_only)

    # Unasked (the light bulb), it comes without its edit, which the client resolves on use.
    [lazy] = [a for a in await _actions(lsp, uri, diagnostics) if a.kind == actions[0].kind]
    assert lazy.edit is None
    resolved = await lsp.code_action_resolve_async(lazy)
    assert resolved.edit is not None
    assert _apply(text, resolved.edit, uri) == fixed


async def test_stale_diagnostics_get_no_quick_fix(lsp: RecordingClient, tmp_path: Path) -> None:
    uri = _open(lsp, tmp_path / "flows.py", WAIT_IMPORT)
    [old] = (await _published(lsp, uri, version=1)).diagnostics
    _change(lsp, uri, "\n\n" + WAIT_IMPORT, version=2)
    # Asked before version 2 is checked: the old ranges would edit the wrong lines.
    assert await _actions(lsp, uri, [old], only=[types.CodeActionKind.QuickFix]) == []


async def test_crlf_lines_untitled_buffers_and_a_broken_config(
    lsp: RecordingClient, tmp_path: Path
) -> None:
    text = WAIT_IMPORT.replace("\n", "\r\n")
    uri = _open(lsp, tmp_path / "crlf.py", text)
    [diagnostic] = (await _published(lsp, uri)).diagnostics
    assert diagnostic.range.start == types.Position(line=0, character=26)
    [suppress] = [a for a in await _actions(lsp, uri, [diagnostic]) if a.title.startswith("Sup")]
    assert suppress.edit is not None
    assert _apply(text, suppress.edit, uri).startswith(
        "from prefect import flow, wait  # noqa: PFL105\r\n\r\n"
    )

    untitled = "untitled:Untitled-1"
    lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=untitled, language_id="python", version=1, text=WAIT_IMPORT
            )
        )
    )
    assert [d.code for d in (await _published(lsp, untitled)).diagnostics] == ["PFL105"]

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text('[tool.prefect-lint]\nselect = "PFL105"\n')
    uri = _open(lsp, broken / "flows.py", WAIT_IMPORT)
    assert [d.code for d in (await _published(lsp, uri)).diagnostics] == ["PFL105"]
    assert any(
        "pyproject.toml [tool.prefect-lint]: `select` must be a list of strings" in m.message
        and "(using the defaults)" in m.message
        for m in lsp.messages
    )
