"""The engine in a child process, so that no input can take the language server down.

LibCST's native parser can overflow its stack (a segmentation fault) on deeply nested input,
and some inputs take minutes to parse. In a child process neither stops the server: a crashed
or overdue child is replaced, and the document is reported as unchecked. The child keeps
per-process caches (project indexes, parsed modules, Prefect targets), so one thread of the
server sends it one request at a time.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

STARTUP_TIMEOUT_SECONDS = 120.0


class EngineFailure(Exception):
    """The engine process crashed, hung or raised; the message says which, in one line."""


def _engine_main(connection: Connection) -> None:
    """The engine process: answer (method, args) requests until the pipe closes."""
    # Its stdout is the server's protocol stream: anything printed goes to stderr instead.
    os.dup2(2, 1)
    # Imported before saying ready, while the server and the client are still shaking hands:
    # the first check must not pay for them. (The rules are imported with the checker.)
    from prefect_lint.frontends.lsp.engine import Engine

    engine = Engine()
    connection.send((True, "ready"))
    while True:
        try:
            method, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, getattr(engine, method)(*args))
        except Exception as error:
            reply = (False, f"internal error: {type(error).__name__}: {error}")
        connection.send(reply)


class EngineProcess:
    """The engine in a child process, called from one thread at a time."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    def start(self) -> None:
        """Start the child now, if it is not running (a call starts it otherwise)."""
        if self._process is None or not self._process.is_alive():
            self.stop()
            self._start()

    def _start(self) -> tuple[BaseProcess, Connection]:
        # Spawned, not forked: the server has threads, and a fork copies their held locks.
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_engine_main, args=(child,), name="prefect-lint-engine", daemon=True
        )
        process.start()
        child.close()
        self._process, self._connection = process, parent
        # Starting (imports) is not part of any check's time.
        if not parent.poll(STARTUP_TIMEOUT_SECONDS):
            self.stop()
            raise EngineFailure("the checker process did not start")
        try:
            parent.recv()
        except (EOFError, OSError) as error:
            self.stop()
            raise EngineFailure("the checker process did not start") from error
        return process, parent

    def call(self, method: str, *args: Any) -> Any:
        process, connection = self._process, self._connection
        if process is None or connection is None or not process.is_alive():
            self.stop()
            process, connection = self._start()
        try:
            connection.send((method, args))
            if not connection.poll(self.timeout):
                self.stop()
                raise EngineFailure(f"took longer than {self.timeout:g} s and was stopped")
            ok, value = connection.recv()
        except (EOFError, OSError) as error:
            process.join(1)
            code = process.exitcode
            self.stop()
            raise EngineFailure(f"the checker process crashed (exit code {code})") from error
        if not ok:
            raise EngineFailure(value)
        return value

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None
