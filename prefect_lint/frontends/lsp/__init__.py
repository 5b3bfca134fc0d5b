"""`prefect-lint server`: the language server (LSP over stdio), built on pygls 2.

It runs the CLI's engine on the editor's unsaved text: the same settings (`[tool.prefect-lint]`
found from the document's path, per-file ignores, exclude), the same project index (so flows and
tasks imported from sibling modules are known) and the same Prefect target. Diagnostics carry
their fix as LSP edits; code actions apply one fix, add a `# noqa`, or run the `--fix` loop.

Modules, each importing only those listed before it:

- `engine`: what one check needs (settings, project index, Prefect target) and the engine calls;
  runs in the engine process, with no LSP types.
- `process`: the engine in a child process (LibCST can crash or take minutes on pathological
  input; the child is replaced, the server stays up).
- `positions`: the engine's character offsets to LSP's code units and back.
- `noqa`: the edit that adds a `# noqa` comment.
- `server`: the pygls server (documents, scheduling, diagnostics, code actions) and `serve`.

This package imports nothing itself: the engine process loads `process` and `engine` without
pygls and lsprotocol, which take a noticeable part of a second to import.
"""

# Larger documents are not checked: parsing them would hold the engine for many seconds.
MAX_CHARACTERS = 2_000_000
