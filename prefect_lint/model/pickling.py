"""Calls whose result cannot cross a process boundary.

The facts: docs/prefect-semantics.md#cloudpickle-table and
docs/prefect-semantics.md#process-runners-pickle-across.

Process-based task runners (ProcessPoolTaskRunner, Dask, Ray) cloudpickle task parameters,
return values and the flow object with the module globals its body references. This module
records which constructor and factory calls build objects that cloudpickle refuses, and the
exact error each one raises, so the PFL2xx rules can name it in their messages.

Keys are canonical dotted names, as `ModuleModel.evaluate` produces them (`threading.Lock`,
`boto3.client`). `builtins.open` is the builtin `open` (a rule maps an unbound `open` name
to it); `psycopg.Connection.connect` is a classmethod, called on the class. Methods called
on an instance (`Path(p).open()`, `session.client("s3")`) are not here: the model does not
know what an instance is, so no rule could reach such a key.

Every entry is checked against a real object by `tests/test_pickle_table.py` (the packages
are in the `dev` extra), on CPython 3.11. None needs a server: database drivers are built
unconnected, boto3 clients with fake credentials; `note` says how where it matters.
What is deliberately NOT here, because cloudpickle handles it (measured the same way):
lambdas, nested functions and tasks defined inside functions (pickled by value); generators
(Prefect turns a returned generator into a list before it is pickled); `subprocess.run`'s
`CompletedProcess`; files opened for reading in text mode, or in text mode with `+` (cloudpickle
ships their contents); `requests.Session`; `boto3.session.Session` itself (only its clients
fail); `logging.getLogger` / `logging.Logger` (pickled by name); asyncio locks, events and
queues; `tempfile.SpooledTemporaryFile` (in memory until it rolls over).
`multiprocessing.synchronize.*` classes are left out on purpose: user code gets them through
`multiprocessing.Lock()` & co. (listed), and calling the classes directly needs a `ctx=`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import libcst as cst


@dataclass(frozen=True)
class UnpicklableKind:
    """What a call builds, and what `cloudpickle.dumps` raises on it.

    `description` fits a message ("returns a threading lock"); `error` is
    `"<exception type>: <message>"` exactly as cloudpickle 3.1 raises it; `note` says how the
    entry was verified where that is not obvious.
    """

    description: str
    error: str
    note: str = ""


class _Unknown(Enum):
    """The value of an argument that is not a literal (a name, a call, an f-string, ...)."""

    UNKNOWN = "UNKNOWN"


UNKNOWN: Final = _Unknown.UNKNOWN

# A literal argument value (str, int, bool, None) or UNKNOWN.
ArgValue = str | int | bool | None | _Unknown


@dataclass(frozen=True)
class CallArguments:
    """The arguments of a call, reduced to what the table needs: literal values or UNKNOWN.

    `has_star` means a `*args` was passed (positions after it are unknown), `has_double_star`
    a `**kwargs` (any keyword not written out may be in it).
    """

    positional: tuple[ArgValue, ...] = ()
    keywords: Mapping[str, ArgValue] = field(default_factory=dict)
    has_star: bool = False
    has_double_star: bool = False

    def get(self, index: int | None, keyword: str) -> tuple[bool, ArgValue]:
        """(passed?, value) of the parameter at `index` / named `keyword`.

        Not passed means the default applies; UNKNOWN means it may or may not be passed,
        or is passed with a value we cannot read.
        """
        if keyword in self.keywords:
            return True, self.keywords[keyword]
        if index is not None and index < len(self.positional):
            return True, self.positional[index]
        if self.has_star or self.has_double_star:
            return True, UNKNOWN
        return False, None


_kind = UnpicklableKind


_LOCK = "TypeError: cannot pickle '_thread.lock' object"
_RLOCK = "TypeError: cannot pickle '_thread.RLock' object"
_SOCKET = "TypeError: cannot pickle 'socket' object"
_SSL = "TypeError: cannot pickle 'SSLContext' object"
_CONTEXT = "TypeError: cannot pickle '_contextvars.Context' object"


def _mp(kind: str) -> str:
    return (
        f"RuntimeError: {kind} objects should only be shared between processes through inheritance"
    )


_BOTO_CLIENT = _kind(
    "a boto3 client",
    _SSL,
    note="Built offline with a region and fake credentials; no request is sent.",
)
_BOTO_RESOURCE = _kind("a boto3 resource", _SSL, note=_BOTO_CLIENT.note)

# Calls whose result never pickles, whatever their arguments.
UNPICKLABLE: Final[Mapping[str, UnpicklableKind]] = {
    # threading
    "threading.Lock": _kind("a threading lock", _LOCK),
    "threading.RLock": _kind("a threading re-entrant lock", _RLOCK),
    "threading.Condition": _kind("a threading condition", _RLOCK),
    "threading.Semaphore": _kind("a threading semaphore", _LOCK),
    "threading.BoundedSemaphore": _kind("a threading semaphore", _LOCK),
    "threading.Event": _kind("a threading event", _LOCK),
    "threading.Barrier": _kind("a threading barrier", _LOCK),
    "threading.Thread": _kind("a thread", _LOCK),
    "threading.Timer": _kind("a threading timer", _LOCK),
    "threading.local": _kind(
        "a thread-local namespace", "TypeError: cannot pickle '_thread._local' object"
    ),
    # multiprocessing: its synchronisation objects refuse to be pickled outside a spawn.
    "multiprocessing.Lock": _kind("a multiprocessing lock", _mp("Lock")),
    "multiprocessing.RLock": _kind("a multiprocessing re-entrant lock", _mp("RLock")),
    "multiprocessing.Condition": _kind("a multiprocessing condition", _mp("Condition")),
    "multiprocessing.Semaphore": _kind("a multiprocessing semaphore", _mp("Semaphore")),
    "multiprocessing.BoundedSemaphore": _kind(
        "a multiprocessing semaphore", _mp("BoundedSemaphore")
    ),
    "multiprocessing.Event": _kind("a multiprocessing event", _mp("Condition")),
    "multiprocessing.Barrier": _kind("a multiprocessing barrier", _mp("Condition")),
    "multiprocessing.Queue": _kind("a multiprocessing queue", _mp("Queue")),
    "multiprocessing.JoinableQueue": _kind("a multiprocessing queue", _mp("JoinableQueue")),
    "multiprocessing.SimpleQueue": _kind("a multiprocessing queue", _mp("SimpleQueue")),
    "multiprocessing.Value": _kind("a shared multiprocessing value", _mp("Synchronized")),
    "multiprocessing.Array": _kind("a shared multiprocessing array", _mp("SynchronizedArray")),
    "multiprocessing.Pool": _kind(
        "a multiprocessing pool",
        "NotImplementedError: pool objects cannot be passed between processes or pickled",
    ),
    "multiprocessing.Manager": _kind(
        "a multiprocessing manager",
        "TypeError: Pickling an AuthenticationString object is disallowed for security reasons",
    ),
    # queue
    "queue.Queue": _kind("a thread queue", _LOCK),
    "queue.LifoQueue": _kind("a thread queue", _LOCK),
    "queue.PriorityQueue": _kind("a thread queue", _LOCK),
    "queue.SimpleQueue": _kind(
        "a thread queue", "TypeError: cannot pickle '_queue.SimpleQueue' object"
    ),
    # executors and event loops
    "concurrent.futures.ThreadPoolExecutor": _kind(
        "a thread pool executor", "TypeError: cannot pickle '_queue.SimpleQueue' object"
    ),
    "concurrent.futures.ProcessPoolExecutor": _kind("a process pool executor", _LOCK),
    "asyncio.new_event_loop": _kind("an asyncio event loop", _CONTEXT),
    "asyncio.get_event_loop": _kind("an asyncio event loop", _CONTEXT),
    "asyncio.get_running_loop": _kind("an asyncio event loop", _CONTEXT),
    "subprocess.Popen": _kind("a running subprocess", _LOCK),
    # sockets and TLS
    "socket.socket": _kind("a socket", _SOCKET),
    "socket.create_connection": _kind("a socket", _SOCKET),
    "socket.create_server": _kind("a socket", _SOCKET),
    "socket.socketpair": _kind("a pair of sockets", _SOCKET),
    "ssl.create_default_context": _kind("an SSL context", _SSL),
    # files that never pickle, whatever the mode
    "io.FileIO": _kind("an unbuffered binary file", "TypeError: cannot pickle '_io.FileIO' object"),
    # logging handlers hold an RLock (loggers themselves pickle by name)
    "logging.FileHandler": _kind("a logging handler", _RLOCK),
    "logging.StreamHandler": _kind("a logging handler", _RLOCK),
    # database connections
    "sqlite3.connect": _kind(
        "an sqlite3 connection", "TypeError: cannot pickle 'sqlite3.Connection' object"
    ),
    "psycopg.connect": _kind(
        "a psycopg connection",
        "TypeError: no default __reduce__ due to non-trivial __cinit__",
        note=(
            "Tested on the Connection class psycopg.connect returns, wrapped around a libpq "
            "handle that is still connecting (no server needed); the text is psycopg-binary's, "
            "the pure-Python build words it differently."
        ),
    ),
    "psycopg.Connection.connect": _kind(
        "a psycopg connection",
        "TypeError: no default __reduce__ due to non-trivial __cinit__",
        note="The classmethod behind psycopg.connect; tested the same way.",
    ),
    "psycopg2.connect": _kind(
        "a psycopg2 connection",
        "TypeError: cannot pickle 'psycopg2.extensions.connection' object",
        note=(
            "Tested with async_=True, which returns the same connection type without waiting "
            "for a server."
        ),
    ),
    "pymysql.connect": _kind(
        "a PyMySQL connection",
        _SSL,
        note=(
            "Tested with defer_connect=True (no server). A connected one also holds a socket; "
            "cloudpickle reports whichever attribute it meets first."
        ),
    ),
    "pyodbc.connect": _kind(
        "a pyodbc connection",
        "TypeError: cannot pickle 'pyodbc.Connection' object",
        note=(
            "Needs the unixODBC system library even to import; tested where unixODBC and the "
            "SQLite ODBC driver are installed (no server), skipped elsewhere."
        ),
    ),
    "sqlalchemy.create_engine": _kind(
        "a SQLAlchemy engine", "TypeError: cannot pickle '_thread._local' object"
    ),
    "redis.Redis": _kind("a Redis client", _RLOCK),
    "redis.StrictRedis": _kind("a Redis client", _RLOCK),
    "redis.from_url": _kind("a Redis client", _RLOCK),
    # HTTP and cloud clients
    "httpx.Client": _kind("an httpx client", _RLOCK),
    "httpx.AsyncClient": _kind("an httpx client", _RLOCK),
    "urllib3.PoolManager": _kind("a urllib3 pool manager", _RLOCK),
    "boto3.client": _BOTO_CLIENT,
    "boto3.resource": _BOTO_RESOURCE,
}


@dataclass(frozen=True)
class FileOpener:
    """A call that opens a file: whether the file pickles depends on its mode.

    cloudpickle ships a text-mode file opened for reading (`r`, or any mode with `+`) as its
    contents; it refuses text files opened only for writing, and every binary file.
    """

    mode_index: int | None
    default_mode: str
    buffering_index: int | None


# Positions count the arguments as written at the call.
FILE_OPENERS: Final[Mapping[str, FileOpener]] = {
    "builtins.open": FileOpener(mode_index=1, default_mode="r", buffering_index=2),
    "io.open": FileOpener(mode_index=1, default_mode="r", buffering_index=2),
    "os.fdopen": FileOpener(mode_index=1, default_mode="r", buffering_index=2),
    "tempfile.TemporaryFile": FileOpener(mode_index=0, default_mode="w+b", buffering_index=1),
    "tempfile.NamedTemporaryFile": FileOpener(mode_index=0, default_mode="w+b", buffering_index=1),
}

# Calls whose object's `__enter__` (or `__aenter__`) returns the object itself, so that
# `with call(...) as name` binds the unpicklable object to `name`. Not locks, conditions or
# semaphores: their `__enter__` returns True. Checked against real objects by the tests.
ENTERS_AS_ITSELF: Final = frozenset(
    {
        *FILE_OPENERS,
        "io.FileIO",
        "sqlite3.connect",
        "psycopg.connect",
        "psycopg.Connection.connect",
        "psycopg2.connect",
        "pymysql.connect",
        "pyodbc.connect",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "httpx.Client",
        "httpx.AsyncClient",
        "urllib3.PoolManager",
        "socket.socket",
        "socket.create_connection",
        "socket.create_server",
        "subprocess.Popen",
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.ProcessPoolExecutor",
        "multiprocessing.Pool",
    }
)

# Parameter annotations naming a type whose instances cannot be hashed by Prefect's default
# cache policy (JSON, then cloudpickle, both refuse them), mapped to the table entry that
# builds such an instance. `threading.Lock`/`RLock` are factories, annotated all the same.
# Left out: `requests.Session` (it pickles, so it hashes) and `typing.IO`/`BinaryIO`
# (`io.BytesIO` pickles). Checked against real instances and Prefect's `hash_objects`.
UNHASHABLE_ANNOTATIONS: Final[Mapping[str, str]] = {
    "threading.Lock": "threading.Lock",
    "threading.RLock": "threading.RLock",
    "threading.Condition": "threading.Condition",
    "threading.Semaphore": "threading.Semaphore",
    "threading.BoundedSemaphore": "threading.BoundedSemaphore",
    "threading.Event": "threading.Event",
    "queue.Queue": "queue.Queue",
    "socket.socket": "socket.socket",
    "ssl.SSLContext": "ssl.create_default_context",
    "subprocess.Popen": "subprocess.Popen",
    "asyncio.AbstractEventLoop": "asyncio.new_event_loop",
    "concurrent.futures.ThreadPoolExecutor": "concurrent.futures.ThreadPoolExecutor",
    "concurrent.futures.ProcessPoolExecutor": "concurrent.futures.ProcessPoolExecutor",
    "multiprocessing.pool.Pool": "multiprocessing.Pool",
    "sqlite3.Connection": "sqlite3.connect",
    "psycopg.Connection": "psycopg.connect",
    "psycopg2.extensions.connection": "psycopg2.connect",
    "pymysql.Connection": "pymysql.connect",
    "pymysql.connections.Connection": "pymysql.connect",
    "sqlalchemy.Engine": "sqlalchemy.create_engine",
    "sqlalchemy.engine.Engine": "sqlalchemy.create_engine",
    "redis.Redis": "redis.Redis",
    "redis.StrictRedis": "redis.StrictRedis",
    "redis.client.Redis": "redis.Redis",
    "httpx.Client": "httpx.Client",
    "httpx.AsyncClient": "httpx.AsyncClient",
    "urllib3.PoolManager": "urllib3.PoolManager",
    "botocore.client.BaseClient": "boto3.client",
}

_MODE_CHARS = frozenset("rwaxbt+")


def _valid_mode(mode: str) -> bool:
    """The modes `open()` accepts (anything else raises ValueError before pickling matters)."""
    if not mode or set(mode) - _MODE_CHARS or len(set(mode)) != len(mode):
        return False
    return sum(c in mode for c in "rwax") == 1 and not ("b" in mode and "t" in mode)


def file_mode_kind(mode: str, buffering: ArgValue = -1) -> UnpicklableKind | None:
    """What a file opened with this literal `mode` is, if cloudpickle refuses it.

    `buffering` is the literal `buffering=` argument (-1 when not passed), or UNKNOWN.
    """
    if not _valid_mode(mode):
        return None
    if "b" not in mode:
        if buffering == 0:
            return None  # open() itself raises ValueError: can't have unbuffered text I/O
        if "r" in mode or "+" in mode:
            return None
        return UnpicklableKind(
            f"a file opened for writing (mode {mode!r})",
            f"PicklingError: Cannot pickle files that are not opened for reading: {mode}",
        )
    if "+" in mode:
        buffered = "BufferedRandom"
    elif "r" in mode:
        buffered = "BufferedReader"
    else:
        buffered = "BufferedWriter"
    description = f"a binary-mode file (mode {mode!r})"
    if buffering == 0:
        return UnpicklableKind(description, "TypeError: cannot pickle '_io.FileIO' object")
    error = f"TypeError: cannot pickle '_io.{buffered}' object"
    if buffering is UNKNOWN:
        # Still unpicklable either way; only the class named in the error depends on it.
        error += " (or '_io.FileIO' if unbuffered)"
    return UnpicklableKind(description, error)


def unpicklable_call(name: str, arguments: CallArguments | None = None) -> UnpicklableKind | None:
    """What the call of canonical `name` with `arguments` builds, if it cannot be pickled.

    None means "picklable, or not known": rules stay silent. For file openers the mode must
    be known: a literal string, or the parameter left out (its default); a mode we cannot
    read gives None. `arguments=None` means "no arguments".
    """
    kind = UNPICKLABLE.get(name)
    if kind is not None:
        return kind
    opener = FILE_OPENERS.get(name)
    if opener is None:
        return None
    arguments = arguments if arguments is not None else CallArguments()
    passed, mode = arguments.get(opener.mode_index, "mode")
    if not passed:
        mode = opener.default_mode
    if not isinstance(mode, str):
        return None
    passed, buffering = arguments.get(opener.buffering_index, "buffering")
    if not passed:
        buffering = -1
    elif not isinstance(buffering, int) or isinstance(buffering, bool):
        buffering = UNKNOWN
    return file_mode_kind(mode, buffering)


# -- LibCST adaptor ---------------------------------------------------------------------


def literal_value(expr: cst.BaseExpression) -> ArgValue:
    """The Python value of a literal string, integer, True, False or None; else UNKNOWN."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else UNKNOWN  # bytes are no mode
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = literal_value(expr.expression)
        return -inner if isinstance(inner, int) and not isinstance(inner, bool) else UNKNOWN
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    return UNKNOWN


def call_arguments(call: cst.Call) -> CallArguments:
    """The literal arguments of `call`."""
    positional: list[ArgValue] = []
    keywords: dict[str, ArgValue] = {}
    has_star = has_double_star = False
    for arg in call.args:
        if arg.star == "*":
            has_star = True
        elif arg.star == "**":
            has_double_star = True
        elif arg.keyword is not None:
            keywords[arg.keyword.value] = literal_value(arg.value)
        elif not has_star:
            positional.append(literal_value(arg.value))
    return CallArguments(
        positional=tuple(positional),
        keywords=keywords,
        has_star=has_star,
        has_double_star=has_double_star,
    )


def unpicklable_cst_call(name: str, call: cst.Call) -> UnpicklableKind | None:
    """`unpicklable_call` for a LibCST call whose callee resolves to canonical `name`."""
    return unpicklable_call(name, call_arguments(call))


def known_names() -> Sequence[str]:
    """Every canonical name the table knows, for documentation and tests."""
    return sorted({*UNPICKLABLE, *FILE_OPENERS})


# Top-level packages of everything the table knows (the builtin `open` aside).
TABLE_PACKAGES: Final = frozenset(name.partition(".")[0] for name in known_names()) - {"builtins"}


def mentions_unpicklable_makers(text: str) -> bool:
    """Whether `text` contains `open(` or the name of a package the table knows (`sqlite3`,
    `threading`, ...) anywhere: in code, a comment or a string, even inside a longer word.

    `exports.summarize` asks it, for a module the checker read, before looking for tasks
    that return table objects, which a flow in another module may submit (PFL201); a module
    the project index parses itself is summarized without it. A text test errs towards
    yes, so a task keeps such a return in its summary even when the import is inside the
    task. PFL202's gate (`UnpicklableArgument`) reads the module's imports instead and
    decides less; tests/test_unpicklable_prechecks.py pins the difference. Because `io` and
    `os` are parts of common words, it is true for nearly every real module.
    """
    return "open(" in text or any(package in text for package in TABLE_PACKAGES)
