"""The editor budgets: `prefect-lint server` driven over stdio like an editor drives it.

A client written here (JSON-RPC with `Content-Length` framing, no LSP library) starts
`python -m prefect_lint server`, initializes it on a directory holding one generated flow
module (`shapes.generate("big_flow", 1000)`: one flow of about 1,000 lines with some 200
findings, so converting and publishing diagnostics is part of the time), and measures wall time
as the user sees it:

- first diagnostics: from `textDocument/didOpen`, sent right after `initialized` (an editor
  opens the file that started the server), to the `publishDiagnostics` for that version;
- keystroke to diagnostics: bursts of keystrokes (one `didChange` with the full text per
  typed character, `interval` seconds apart), from the last `didChange` of a burst to the
  `publishDiagnostics` for its version. Also counted: how many publications each burst caused
  and whether any of them was for an older version after the newest one (stale).

Wall time moves with the load on the machine: on a shared machine these numbers are
pessimistic (the report prints the load average). Its CPU figure is the server's and its
engine process's CPU time, per server started.

    python benchmarks/editor.py [--repeat 3] [--bursts 5] [--keystrokes 12] [--interval 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import shapes  # noqa: E402

TIMEOUT = 120.0


class Client:
    """A minimal LSP client over the server's stdin/stdout."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        # (arrival time, message), in order.
        self.inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            message = json.loads(stream.read(length))
            self.inbox.put((time.perf_counter(), message))

    def send(self, message: dict[str, Any]) -> float:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        stream = self.process.stdin
        assert stream is not None
        stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stream.flush()
        return time.perf_counter()

    def notify(self, method: str, params: Any) -> float:
        return self.send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        self.send({"id": ident, "method": method, "params": params})
        _, message = self.wait(lambda m: m.get("id") == ident and "method" not in m)
        return message

    def wait(self, wanted: Any) -> tuple[float, dict[str, Any]]:
        """The first message for which `wanted(message)` holds; answers server requests."""
        deadline = time.perf_counter() + TIMEOUT
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("the server did not answer")
            arrived, message = self.inbox.get(timeout=left)
            if "id" in message and "method" in message:
                # A request from the server (registerCapability, progress): accept it.
                self.send({"id": message["id"], "result": None})
            if wanted(message):
                return arrived, message

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(10)
        except (OSError, TimeoutError, subprocess.TimeoutExpired, queue.Empty):
            self.process.kill()
            self.process.wait()


def _is_publish(uri: str, version: int) -> Any:
    def wanted(message: dict[str, Any]) -> bool:
        params = message.get("params") or {}
        return (
            message.get("method") == "textDocument/publishDiagnostics"
            and params.get("uri") == uri
            and params.get("version") == version
        )

    return wanted


@dataclass
class EditorTimes:
    first: list[float] = field(default_factory=list)  # seconds, one per server
    keystroke: list[float] = field(default_factory=list)  # seconds, one per burst
    publications: list[int] = field(default_factory=list)  # per burst
    stale: int = 0  # publications for an older version after the newest one
    diagnostics: int = 0  # in the first publication
    cpu: list[float] = field(default_factory=list)  # server + engine CPU seconds, per server


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _one_server(
    root: Path, text: str, times: EditorTimes, bursts: int, keystrokes: int, interval: float
) -> None:
    path = root / "flows.py"
    uri = path.as_uri()
    cpu_before = _children_cpu()
    client = Client([sys.executable, "-m", "prefect_lint", "server"], root)
    try:
        client.request(
            "initialize",
            {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
        )
        client.notify("initialized", {})
        opened = client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        arrived, message = client.wait(_is_publish(uri, 1))
        times.first.append(arrived - opened)
        times.diagnostics = len(message["params"]["diagnostics"])
        version = 1
        # Typing a comment, one character per change, at the end of the flow's body.
        anchor = text.rindex("    return total")
        for _ in range(bursts):
            time.sleep(1.0)  # a pause: the last burst's checks are done
            typed = "    # "
            last = 0.0
            first_version = version + 1
            for stroke in range(keystrokes):
                typed += "abcdefghijklmnopqrstuvwxyz"[stroke % 26]
                version += 1
                changed = text[:anchor] + typed + "\n" + text[anchor:]
                last = client.notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"text": changed}],
                    },
                )
                if stroke < keystrokes - 1:
                    time.sleep(interval)
            # Every publication of this burst, up to the one for the newest version.
            published: list[int] = []
            while True:
                arrived, message = client.wait(
                    lambda m: m.get("method") == "textDocument/publishDiagnostics"
                )
                number = message["params"].get("version")
                if not isinstance(number, int) or number < first_version:
                    continue
                published.append(number)
                if number == version:
                    break
                if arrived > last:
                    times.stale += 1  # an older version's diagnostics after the newest edit
            times.keystroke.append(arrived - last)
            times.publications.append(len(published))
    finally:
        client.close()
    times.cpu.append(_children_cpu() - cpu_before)


def measure(
    work: Path,
    *,
    lines: int = 1000,
    repeat: int = 3,
    bursts: int = 5,
    keystrokes: int = 12,
    interval: float = 0.1,
) -> EditorTimes:
    """Start the server `repeat` times; each opens the file once and types `bursts` bursts."""
    root = work / "editor"
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "flows"\ndependencies = ["prefect>=3.4,<4"]\n'
    )
    text = shapes.generate("big_flow", lines)
    (root / "flows.py").write_text(text)
    times = EditorTimes()
    for _ in range(repeat):
        _one_server(root, text, times, bursts, keystrokes, interval)
    return times


def report(times: EditorTimes) -> str:
    def ms(values: list[float]) -> str:
        return ", ".join(f"{1000 * v:.0f}" for v in values)

    return (
        f"editor: {times.diagnostics} diagnostics on the 1,000-line flow; first diagnostics "
        f"after didOpen [{ms(times.first)}] ms; keystroke to diagnostics per burst "
        f"[{ms(times.keystroke)}] ms (median {1000 * statistics.median(times.keystroke):.0f}, "
        f"max {1000 * max(times.keystroke):.0f}); publications per burst {times.publications}, "
        f"stale {times.stale}; CPU per server (start, open, bursts, exit) "
        f"[{', '.join(f'{c:.2f}' for c in times.cpu)}] s; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="servers started (default 3)")
    parser.add_argument("--bursts", type=int, default=5, help="bursts per server (default 5)")
    parser.add_argument("--keystrokes", type=int, default=12, help="per burst (default 12)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between keys")
    parser.add_argument("--lines", type=int, default=1000)
    options = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pfl-editor-") as work:
        times = measure(
            Path(work),
            lines=options.lines,
            repeat=options.repeat,
            bursts=options.bursts,
            keystrokes=options.keystrokes,
            interval=options.interval,
        )
    print(report(times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
