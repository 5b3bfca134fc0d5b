"""The engine in a child process, so that no input can take the language server down.

LibCST's native parser can overflow its stack (a segmentation fault) on deeply nested input,
and some inputs take minutes to parse. In a child process neither stops the server: a crashed
or overdue child is replaced, and the document is reported as unchecked. The child keeps
per-process caches (project indexes, parsed modules, Prefect targets), so one thread of the
server sends it one request at a time.

A check of a document that changed meanwhile is stopped (`cancel`): the server writes the
request's number into shared memory and sends the child SIGUSR1, whose handler stops that
request only if it is still the one running (see `engine.Interrupts`). Where there is no
SIGUSR1 (Windows), the check runs to its end and its result is dropped.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import signal
import threading
import warnings
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

STARTUP_TIMEOUT_SECONDS = 120.0
CANCEL_SIGNAL: signal.Signals | None = getattr(signal, "SIGUSR1", None)


class EngineFailure(Exception):
    """The engine process crashed, hung or raised; the message says which, in one line."""


class Cancelled(Exception):
    """The call was stopped because its document changed (`EngineProcess.cancel`)."""


def _engine_main(connection: Connection, cancel: Synchronized[int]) -> None:
    """The engine process: answer (number, method, args, cancellable) requests until the
    pipe closes; the reply is (True, value), (False, error message) or (None, "cancelled")."""
    # Its stdout is the server's protocol stream: anything printed goes to stderr instead.
    os.dup2(2, 1)
    # Imported before saying ready, while the server and the client are still shaking hands:
    # the first check must not pay for them. (The rules are imported with the checker.)
    from prefect_lint.frontends.lsp.engine import INTERRUPTS, Engine, Superseded

    running = [0]

    def on_cancel(signum: int, frame: FrameType | None) -> None:
        if cancel.value == running[0]:
            INTERRUPTS.request()

    if CANCEL_SIGNAL is not None:
        signal.signal(CANCEL_SIGNAL, on_cancel)
    engine = Engine()
    # Process-wide settings a check changes and restores on its way out; a check stopped in
    # the middle of its way out may leave them changed, so they are restored here after one.
    # (Stopped, it raises no more: the warning filters are restored by the outer `with`.)
    thresholds = gc.get_threshold()
    connection.send((True, "ready"))
    while True:
        try:
            number, method, args, cancellable = connection.recv()
        except (EOFError, OSError):
            return
        reply: tuple[bool | None, Any]
        try:
            running[0] = number
            if cancellable:
                INTERRUPTS.arm()
                if cancel.value == number:  # asked before it started
                    INTERRUPTS.request()
            try:
                with warnings.catch_warnings():
                    reply = (True, getattr(engine, method)(*args))
            finally:
                INTERRUPTS.disarm()
        except Superseded:
            reply = (None, "cancelled")
            gc.set_threshold(*thresholds)
        except Exception as error:
            reply = (False, f"internal error: {type(error).__name__}: {error}")
        connection.send(reply)


class EngineProcess:
    """The engine in a child process, called from one thread at a time."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._cancel: Synchronized[int] | None = None
        self._numbers = itertools.count(1)
        # (request number, key) of the cancellable call under way; guarded by the lock, as
        # `cancel` comes from another thread than `call`.
        self._running: tuple[int, str] | None = None
        self._lock = threading.Lock()
        self._ready = False  # the child said it is ready

    def spawn(self) -> None:
        """Start the child, if it is not running, without waiting for it to be ready: the
        server imports pygls meanwhile, the child LibCST and the rules (two cores, one each)."""
        if self._process is None or not self._process.is_alive():
            self.stop()
            # Spawned, not forked: the server has threads, and a fork copies their held locks.
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            # Written by the server, read by the child's signal handler: no lock (one integer).
            cancel = context.Value("q", 0, lock=False)
            process = context.Process(
                target=_engine_main, args=(child, cancel), name="prefect-lint-engine", daemon=True
            )
            process.start()
            child.close()
            self._process, self._connection, self._cancel = process, parent, cancel
            self._ready = False

    def start(self) -> None:
        """Start the child, if it is not running, and wait until it is ready."""
        self._start()

    def _start(self) -> tuple[BaseProcess, Connection]:
        self.spawn()
        process, parent = self._process, self._connection
        assert process is not None and parent is not None
        if self._ready:
            return process, parent
        # Starting (imports) is not part of any check's time.
        if not parent.poll(STARTUP_TIMEOUT_SECONDS):
            self.stop()
            raise EngineFailure("the checker process did not start")
        try:
            parent.recv()
        except (EOFError, OSError) as error:
            self.stop()
            raise EngineFailure("the checker process did not start") from error
        self._ready = True
        return process, parent

    def call(self, method: str, *args: Any) -> Any:
        return self._call(None, method, args)

    def call_cancellable(self, key: str, method: str, *args: Any) -> Any:
        """`call`, which `cancel(key)` stops half-way (raising Cancelled)."""
        return self._call(key, method, args)

    def cancel(self, key: str) -> None:
        """Stop the call under way for `key`, if there is one (from any thread)."""
        with self._lock:
            running, process, cancel = self._running, self._process, self._cancel
            if running is None or running[1] != key or CANCEL_SIGNAL is None:
                return
            if process is None or process.pid is None or cancel is None:
                return
            cancel.value = running[0]
            with contextlib.suppress(OSError):  # it has just ended: the call reports that
                os.kill(process.pid, CANCEL_SIGNAL)

    def _call(self, key: str | None, method: str, args: tuple[Any, ...]) -> Any:
        process, connection = self._start()
        number = next(self._numbers)
        try:
            with self._lock:
                connection.send((number, method, args, key is not None))
                self._running = (number, key) if key is not None else None
            if not connection.poll(self.timeout):
                self.stop()
                raise EngineFailure(f"took longer than {self.timeout:g} s and was stopped")
            ok, value = connection.recv()
        except (EOFError, OSError) as error:
            process.join(1)
            code = process.exitcode
            self.stop()
            raise EngineFailure(f"the checker process crashed (exit code {code})") from error
        finally:
            with self._lock:
                self._running = None
        if ok is None:
            raise Cancelled(value)
        if not ok:
            raise EngineFailure(value)
        return value

    def stop(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.kill()
                self._process.join(5)
            if self._connection is not None:
                self._connection.close()
            self._process = self._connection = None
            self._cancel = None
