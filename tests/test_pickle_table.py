"""The unpicklable-call table (prefect_lint/model/pickling.py) against real objects.

Every entry is built for real and `cloudpickle.dumps` must raise exactly the recorded error;
the objects the PFL2xx rules must never flag must pickle, and must not be in the table.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import io
import logging
import multiprocessing
import os
import queue
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import libcst as cst
import pytest

from prefect_lint.model.pickling import (
    ENTERS_AS_ITSELF,
    FILE_OPENERS,
    UNHASHABLE_ANNOTATIONS,
    UNKNOWN,
    UNPICKLABLE,
    CallArguments,
    call_arguments,
    file_mode_kind,
    known_names,
    unpicklable_call,
    unpicklable_cst_call,
)

Factory = Callable[[contextlib.ExitStack, Path], Any]


def pickle_error(obj: object) -> str | None:
    """`"<type>: <message>"` of what cloudpickle raises on `obj`, or None if it pickles."""
    try:
        cloudpickle.dumps(obj)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def closing(stack: contextlib.ExitStack, obj: Any, close: str = "close") -> Any:
    stack.callback(getattr(obj, close))
    return obj


def local_listener(stack: contextlib.ExitStack) -> tuple[str, int]:
    server = closing(stack, socket.create_server(("127.0.0.1", 0)))
    return server.getsockname()[:2]


def running_loop(stack: contextlib.ExitStack, getter: Callable[[], Any]) -> Any:
    """The loop `getter` returns inside a running loop (the loop is closed afterwards)."""

    async def grab() -> Any:
        return getter()

    loop = closing(stack, asyncio.new_event_loop())
    result = loop.run_until_complete(grab())
    assert result is loop
    return loop


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    """Fake credentials: boto3 builds clients offline and sends nothing."""
    keys = {
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake-secret",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update(keys)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _psycopg(stack: contextlib.ExitStack, _: Path) -> Any:
    import psycopg

    # A libpq handle still connecting to a closed port: the Connection that psycopg.connect
    # returns, without a server (libpq reports the failure only when polled).
    pgconn = psycopg.pq.PGconn.connect_start(b"host=127.0.0.1 port=1 connect_timeout=1")
    stack.callback(pgconn.finish)
    return psycopg.Connection(pgconn)


def _psycopg2(stack: contextlib.ExitStack, _: Path) -> Any:
    import psycopg2

    return closing(stack, psycopg2.connect("host=127.0.0.1 port=1", async_=True))


def _pymysql(stack: contextlib.ExitStack, _: Path) -> Any:
    import pymysql

    return pymysql.connect(host="127.0.0.1", port=1, defer_connect=True)


def _pyodbc(stack: contextlib.ExitStack, _: Path) -> Any:
    try:
        import pyodbc
    except ImportError as exc:
        pytest.skip(f"pyodbc needs the unixODBC system library: {exc}")
    if "SQLite3" not in pyodbc.drivers():
        pytest.skip("no SQLite3 ODBC driver installed (Debian: libsqliteodbc)")
    return closing(stack, pyodbc.connect("Driver=SQLite3;Database=:memory:"))


def _boto3(what: str) -> Factory:
    def make(stack: contextlib.ExitStack, _: Path) -> Any:
        import boto3

        if what == "client":
            return boto3.client("s3", region_name="us-east-1")
        return boto3.resource("s3", region_name="us-east-1")

    return make


def _sqlalchemy(stack: contextlib.ExitStack, _: Path) -> Any:
    import sqlalchemy

    return closing(stack, sqlalchemy.create_engine("sqlite://"), "dispose")


def _redis(factory: str) -> Factory:
    def make(stack: contextlib.ExitStack, _: Path) -> Any:
        import redis

        if factory == "from_url":
            return redis.from_url("redis://127.0.0.1:1/0")  # connects lazily: nothing sent
        return getattr(redis, factory)(host="127.0.0.1", port=1)

    return make


def _httpx(cls: str) -> Factory:
    def make(stack: contextlib.ExitStack, _: Path) -> Any:
        import httpx

        client = getattr(httpx, cls)()
        if cls == "Client":
            stack.callback(client.close)
        else:
            stack.callback(lambda: asyncio.run(client.aclose()))
        return client

    return make


def _urllib3(stack: contextlib.ExitStack, _: Path) -> Any:
    import urllib3

    return closing(stack, urllib3.PoolManager(), "clear")


def _mp_pool(stack: contextlib.ExitStack, _: Path) -> Any:
    pool = multiprocessing.Pool(1)
    stack.callback(pool.join)
    stack.callback(pool.terminate)
    return pool


def _mp_manager(stack: contextlib.ExitStack, _: Path) -> Any:
    return closing(stack, multiprocessing.Manager(), "shutdown")


def _popen(stack: contextlib.ExitStack, _: Path) -> Any:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    stack.callback(process.wait)
    return process


def _thread(stack: contextlib.ExitStack, _: Path) -> Any:
    return threading.Thread(target=print)  # never started


def _timer(stack: contextlib.ExitStack, _: Path) -> Any:
    return threading.Timer(60, print)  # never started


def _executor(cls: type[concurrent.futures.Executor]) -> Factory:
    def make(stack: contextlib.ExitStack, _: Path) -> Any:
        return closing(stack, cls(max_workers=1), "shutdown")

    return make


def _file_io(stack: contextlib.ExitStack, tmp: Path) -> Any:
    return closing(stack, io.FileIO(tmp / "data.bin", "w"))


def _simple(make: Callable[[], Any], close: str | None = None) -> Factory:
    def factory(stack: contextlib.ExitStack, _: Path) -> Any:
        obj = make()
        if close is not None:
            stack.callback(getattr(obj, close))
        return obj

    return factory


def _socketpair(stack: contextlib.ExitStack, _: Path) -> Any:
    pair = socket.socketpair()
    for sock in pair:
        stack.callback(sock.close)
    return pair


def _create_connection(stack: contextlib.ExitStack, _: Path) -> Any:
    return closing(stack, socket.create_connection(local_listener(stack)))


def _file_handler(stack: contextlib.ExitStack, tmp: Path) -> Any:
    return closing(stack, logging.FileHandler(tmp / "log.txt"))


# One real construction per table entry.
FACTORIES: dict[str, Factory] = {
    "threading.Lock": _simple(threading.Lock),
    "threading.RLock": _simple(threading.RLock),
    "threading.Condition": _simple(threading.Condition),
    "threading.Semaphore": _simple(threading.Semaphore),
    "threading.BoundedSemaphore": _simple(threading.BoundedSemaphore),
    "threading.Event": _simple(threading.Event),
    "threading.Barrier": _simple(lambda: threading.Barrier(2)),
    "threading.Thread": _thread,
    "threading.Timer": _timer,
    "threading.local": _simple(threading.local),
    "multiprocessing.Lock": _simple(multiprocessing.Lock),
    "multiprocessing.RLock": _simple(multiprocessing.RLock),
    "multiprocessing.Condition": _simple(multiprocessing.Condition),
    "multiprocessing.Semaphore": _simple(multiprocessing.Semaphore),
    "multiprocessing.BoundedSemaphore": _simple(multiprocessing.BoundedSemaphore),
    "multiprocessing.Event": _simple(multiprocessing.Event),
    "multiprocessing.Barrier": _simple(lambda: multiprocessing.Barrier(2)),
    "multiprocessing.Queue": _simple(multiprocessing.Queue, "close"),
    "multiprocessing.JoinableQueue": _simple(multiprocessing.JoinableQueue, "close"),
    "multiprocessing.SimpleQueue": _simple(multiprocessing.SimpleQueue, "close"),
    "multiprocessing.Value": _simple(lambda: multiprocessing.Value("i", 1)),
    "multiprocessing.Array": _simple(lambda: multiprocessing.Array("i", 3)),
    "multiprocessing.Pool": _mp_pool,
    "multiprocessing.Manager": _mp_manager,
    "queue.Queue": _simple(queue.Queue),
    "queue.LifoQueue": _simple(queue.LifoQueue),
    "queue.PriorityQueue": _simple(queue.PriorityQueue),
    "queue.SimpleQueue": _simple(queue.SimpleQueue),
    "concurrent.futures.ThreadPoolExecutor": _executor(concurrent.futures.ThreadPoolExecutor),
    "concurrent.futures.ProcessPoolExecutor": _executor(concurrent.futures.ProcessPoolExecutor),
    "asyncio.new_event_loop": _simple(asyncio.new_event_loop, "close"),
    "asyncio.get_event_loop": lambda stack, _: running_loop(stack, asyncio.get_event_loop),
    "asyncio.get_running_loop": lambda stack, _: running_loop(stack, asyncio.get_running_loop),
    "subprocess.Popen": _popen,
    "socket.socket": _simple(socket.socket, "close"),
    "socket.create_connection": _create_connection,
    "socket.create_server": _simple(lambda: socket.create_server(("127.0.0.1", 0)), "close"),
    "socket.socketpair": _socketpair,
    "ssl.create_default_context": _simple(ssl.create_default_context),
    "io.FileIO": _file_io,
    "logging.FileHandler": _file_handler,
    "logging.StreamHandler": _simple(logging.StreamHandler, "close"),
    "sqlite3.connect": _simple(lambda: sqlite3.connect(":memory:"), "close"),
    "psycopg.connect": _psycopg,
    "psycopg.Connection.connect": _psycopg,
    "psycopg2.connect": _psycopg2,
    "pymysql.connect": _pymysql,
    "pyodbc.connect": _pyodbc,
    "sqlalchemy.create_engine": _sqlalchemy,
    "redis.Redis": _redis("Redis"),
    "redis.StrictRedis": _redis("StrictRedis"),
    "redis.from_url": _redis("from_url"),
    "httpx.Client": _httpx("Client"),
    "httpx.AsyncClient": _httpx("AsyncClient"),
    "urllib3.PoolManager": _urllib3,
    "boto3.client": _boto3("client"),
    "boto3.resource": _boto3("resource"),
}


def test_every_table_entry_has_a_real_construction() -> None:
    assert set(FACTORIES) == set(UNPICKLABLE)
    assert set(known_names()) == set(UNPICKLABLE) | set(FILE_OPENERS)


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("name", sorted(UNPICKLABLE))
def test_table_entry_fails_to_pickle_with_recorded_error(name: str, tmp_path: Path) -> None:
    kind = UNPICKLABLE[name]
    assert unpicklable_call(name) is kind
    with contextlib.ExitStack() as stack:
        obj = FACTORIES[name](stack, tmp_path)
        assert pickle_error(obj) == kind.error
    assert kind.description.startswith(("a ", "an "))


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("name", sorted(ENTERS_AS_ITSELF & set(UNPICKLABLE)))
def test_entered_object_is_the_object_itself(name: str, tmp_path: Path) -> None:
    """`with call(...) as x`: x is the unpicklable object only if `__enter__` returns it."""
    with contextlib.ExitStack() as stack:
        obj = FACTORIES[name](stack, tmp_path)
        if hasattr(type(obj), "__enter__"):
            assert type(obj).__enter__(obj) is obj
        else:
            loop = closing(stack, asyncio.new_event_loop())
            assert loop.run_until_complete(type(obj).__aenter__(obj)) is obj


@pytest.mark.parametrize("name", sorted(FILE_OPENERS))
def test_entered_file_is_the_file_itself(name: str, tmp_path: Path) -> None:
    assert name in ENTERS_AS_ITSELF
    path = tmp_path / "data.bin"
    path.write_bytes(b"x")
    # Each opener is entered with `with` below; SIM115 cannot see that through the table.
    openers = {
        "builtins.open": lambda: open(path, "rb"),  # noqa: SIM115
        "io.open": lambda: io.open(path, "rb"),  # noqa: SIM115, UP020
        "os.fdopen": lambda: os.fdopen(os.open(path, os.O_RDONLY), "rb"),
        "tempfile.TemporaryFile": lambda: tempfile.TemporaryFile(dir=tmp_path),  # noqa: SIM115
        "tempfile.NamedTemporaryFile": lambda: tempfile.NamedTemporaryFile(  # noqa: SIM115
            dir=tmp_path
        ),
    }
    handle = openers[name]()
    with handle as entered:
        assert entered is handle
        assert pickle_error(entered) is not None


def resolve_dotted(name: str) -> Any:
    module_name, _, attribute = name.rpartition(".")
    while True:
        try:
            target: Any = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, outer = module_name.rpartition(".")
            attribute = f"{outer}.{attribute}"
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("annotation", sorted(UNHASHABLE_ANNOTATIONS))
def test_unhashable_annotation_instances_fail_the_cache_hash(
    annotation: str, tmp_path: Path
) -> None:
    """An instance of the annotated type (built by the table's factory) is one Prefect's
    default cache policy cannot hash: `hash_objects` raises, as the task engine logs it."""
    hashing = pytest.importorskip("prefect.utilities.hashing")
    factory = UNHASHABLE_ANNOTATIONS[annotation]
    cls = resolve_dotted(annotation)
    with contextlib.ExitStack() as stack:
        obj = FACTORIES[factory](stack, tmp_path)
        if isinstance(cls, type):
            assert isinstance(obj, cls), (type(obj), cls)
        else:
            assert type(obj) is type(cls()), (type(obj), cls)  # threading.Lock: a factory
        with pytest.raises(Exception, match="Unable to create hash"):
            hashing.hash_objects({"value": obj}, raise_on_failure=True)


def test_session_annotation_hashes() -> None:
    requests = pytest.importorskip("requests")
    hashing = pytest.importorskip("prefect.utilities.hashing")
    assert "requests.Session" not in UNHASHABLE_ANNOTATIONS
    assert hashing.hash_objects({"s": requests.Session()}, raise_on_failure=True)


def test_entered_lock_is_not_the_lock() -> None:
    # `with threading.Lock() as x` binds True: nothing unpicklable reaches `x`.
    assert "threading.Lock" not in ENTERS_AS_ITSELF
    with threading.Lock() as entered:
        assert entered is True


def test_psycopg_connect_returns_the_tested_class() -> None:
    import psycopg

    assert psycopg.connect == psycopg.Connection.connect


# -- files: the mode decides ------------------------------------------------------------

TEXT_READABLE = ["r", "rt", "tr", "r+", "w+", "a+", "x+", "w+t"]
TEXT_WRITE_ONLY = ["w", "wt", "tw", "a", "at", "x", "xt"]
BINARY = ["rb", "br", "wb", "ab", "xb", "r+b", "rb+", "w+b", "a+b", "x+b"]


def open_with(name: str, mode: str | None, tmp: Path, buffering: int | None = None) -> Any:
    """Call the opener `name` the way user code would, on a fresh file."""
    target = tmp / "data.txt"
    if mode is not None and "x" in mode:
        target = tmp / f"new-{len(list(tmp.iterdir()))}.txt"
    else:
        target.write_text("contents\n")
    kwargs: dict[str, Any] = {}
    if mode is not None:
        kwargs["mode"] = mode
    if buffering is not None:
        kwargs["buffering"] = buffering
    if name in ("builtins.open", "io.open"):
        return (open if name == "builtins.open" else io.open)(target, **kwargs)
    if name == "os.fdopen":
        flags = os.O_RDWR | os.O_CREAT | (os.O_APPEND if mode and "a" in mode else 0)
        return os.fdopen(os.open(target, flags), **kwargs)
    if name == "tempfile.TemporaryFile":
        return tempfile.TemporaryFile(dir=tmp, **kwargs)
    if name == "tempfile.NamedTemporaryFile":
        return tempfile.NamedTemporaryFile(dir=tmp, **kwargs)
    raise AssertionError(name)


OPENER_MODES = [
    (name, mode)
    for name in sorted(FILE_OPENERS)
    for mode in [None, *TEXT_READABLE, *TEXT_WRITE_ONLY, *BINARY]
    # os.fdopen cannot create a file exclusively: the descriptor already exists
    if not (name == "os.fdopen" and mode is not None and "x" in mode)
]


@pytest.mark.parametrize(("name", "mode"), OPENER_MODES)
def test_file_mode_decides(name: str, mode: str | None, tmp_path: Path) -> None:
    arguments = CallArguments(keywords={} if mode is None else {"mode": mode})
    kind = unpicklable_call(name, arguments)
    with open_with(name, mode, tmp_path) as handle:
        error = pickle_error(handle)
    if kind is None:
        assert error is None
    else:
        assert error == kind.error
    effective = FILE_OPENERS[name].default_mode if mode is None else mode
    assert (kind is None) == ("b" not in effective and ("r" in effective or "+" in effective))


@pytest.mark.parametrize("name", sorted(FILE_OPENERS))
@pytest.mark.parametrize("mode", ["rb", "wb", "w+b"])
def test_unbuffered_binary_file(name: str, mode: str, tmp_path: Path) -> None:
    if name == "os.fdopen" and "x" in mode:
        pytest.skip("no exclusive create through a descriptor")
    kind = unpicklable_call(name, CallArguments(keywords={"mode": mode, "buffering": 0}))
    assert kind is not None
    with open_with(name, mode, tmp_path, buffering=0) as handle:
        assert pickle_error(handle) == kind.error == "TypeError: cannot pickle '_io.FileIO' object"


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("open(p)", "builtins.open", None),
        ("open(p, 'w')", "builtins.open", "Cannot pickle files that are not opened for reading: w"),
        ("open(p, mode='a', encoding='utf-8')", "builtins.open", "opened for reading: a"),
        ("open(p, 'r' 'b')", "builtins.open", "'_io.BufferedReader'"),
        ("open(p, 'wb', 0)", "builtins.open", "'_io.FileIO'"),
        ("open(p, 'wb', -1)", "builtins.open", "'_io.BufferedWriter' object"),
        ("open(p, 'wb', size)", "builtins.open", "(or '_io.FileIO' if unbuffered)"),
        ("open(p, mode)", "builtins.open", None),  # mode unknown: silent
        ("open(p, f'{m}b')", "builtins.open", None),
        ("open(p, *rest)", "builtins.open", None),
        ("open(p, **options)", "builtins.open", None),
        ("open(p, 'w', buffering=0)", "builtins.open", None),  # ValueError in open() itself
        ("open(p, 'rw')", "builtins.open", None),  # invalid mode: ValueError in open()
        ("open(p, 'wbt')", "builtins.open", None),
        ("open(p, 'ww')", "builtins.open", None),
        ("tempfile.TemporaryFile()", "tempfile.TemporaryFile", "'_io.BufferedRandom'"),
        ("tempfile.TemporaryFile('w+')", "tempfile.TemporaryFile", None),
        ("tempfile.NamedTemporaryFile(mode='w')", "tempfile.NamedTemporaryFile", "reading: w"),
        ("threading.Lock()", "threading.Lock", "'_thread.lock'"),
        ("requests.Session()", "requests.Session", None),
        ("logging.getLogger(__name__)", "logging.getLogger", None),
    ],
)
def test_cst_adaptor(source: str, name: str, expected: str | None) -> None:
    call = cst.parse_expression(source)
    assert isinstance(call, cst.Call)
    kind = unpicklable_cst_call(name, call)
    if expected is None:
        assert kind is None
    else:
        assert kind is not None and expected in kind.error


def test_literal_arguments() -> None:
    assert call_arguments(cst.parse_expression("f(x, -1, True, None)")).positional == (  # type: ignore[arg-type]
        UNKNOWN,
        -1,
        True,
        None,
    )


def test_file_mode_kind_rejects_invalid_modes() -> None:
    for mode in ["", "U", "rU", "rwb", "r++", "bt", "q"]:
        assert file_mode_kind(mode) is None, mode


# -- must never be flagged ----------------------------------------------------------------


def _nested_function() -> Any:
    def inner(x: int) -> int:
        return x + 1

    return inner


def _generator_as_prefect_returns_it() -> Any:
    # Prefect turns a returned generator into a list before pickling it (states.py).
    return list(x for x in range(3))


def _completed_process() -> Any:
    return subprocess.run(
        [sys.executable, "-c", "print('hi')"], capture_output=True, text=True, check=True
    )


def _requests_session() -> Any:
    import requests

    session = requests.Session()
    session.headers["X-Test"] = "1"
    return session


def _boto3_session() -> Any:
    import boto3

    return boto3.session.Session(region_name="us-east-1")


def _task_built_in_a_function() -> Any:
    from prefect import task

    @task
    def inner(x: int) -> int:
        return x * 2

    return inner


PICKLABLE: dict[str, tuple[str | None, Callable[[], Any]]] = {
    # label: (canonical name of the call that makes it, if any; maker)
    "lambda": (None, lambda: lambda x: x * 2),
    "nested function": (None, _nested_function),
    "generator returned by a task": (None, _generator_as_prefect_returns_it),
    "CompletedProcess": ("subprocess.run", _completed_process),
    "requests.Session": ("requests.Session", _requests_session),
    "requests.session()": ("requests.session", _requests_session),
    "boto3 Session": ("boto3.session.Session", _boto3_session),
    "logging.getLogger": ("logging.getLogger", lambda: logging.getLogger("prefect_lint.test")),
    "logging.Logger": ("logging.Logger", lambda: logging.Logger("prefect_lint.other")),
    "asyncio.Lock": ("asyncio.Lock", asyncio.Lock),
    "asyncio.Queue": ("asyncio.Queue", asyncio.Queue),
    "SpooledTemporaryFile": ("tempfile.SpooledTemporaryFile", tempfile.SpooledTemporaryFile),
    "io.StringIO": ("io.StringIO", lambda: io.StringIO("x")),
    "multiprocessing.Pipe": ("multiprocessing.Pipe", multiprocessing.Pipe),
}


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("label", sorted(PICKLABLE))
def test_must_not_flag_objects_pickle(label: str) -> None:
    name, make = PICKLABLE[label]
    obj = make()
    assert pickle_error(obj) is None
    if name is not None:
        assert unpicklable_call(name) is None
        assert name not in UNPICKLABLE and name not in FILE_OPENERS


def test_text_read_file_pickles_as_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("line\n")
    with open(path) as handle:
        restored = cloudpickle.loads(cloudpickle.dumps(handle))
    assert restored.read() == "line\n"
    assert unpicklable_call("builtins.open", CallArguments(positional=(str(path),))) is None


def test_generator_itself_does_not_pickle() -> None:
    """Why generators are left out: only the list Prefect makes of them is pickled."""
    assert pickle_error(x for x in range(3)) == "TypeError: cannot pickle 'generator' object"


def test_task_defined_in_a_function_pickles() -> None:
    pytest.importorskip("prefect")
    restored = cloudpickle.loads(cloudpickle.dumps(_task_built_in_a_function()))
    assert restored.fn(21) == 42
