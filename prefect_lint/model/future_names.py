"""The names the futures analysis (`model/futures.py`) and its `ast` pre-check
(`model/futures_precheck.py`) both judge futures by. Free of LibCST, so the pre-check can
import them without loading it."""

from __future__ import annotations

# What a PrefectFuture / PrefectFutureList offers besides being a value (futures.py).
FUTURE_API = frozenset(
    {"result", "wait", "state", "task_run_id", "add_done_callback", "wrapped_future", "flow_run_id"}
)
# Builtins that read a future (or a container of them) without ever resolving it: counting,
# printing or formatting a dict of futures leaves every one of them running.
NEUTRAL_BUILTINS = frozenset(
    {"len", "print", "isinstance", "id", "repr", "type", "bool", "hash", "str", "format", "ascii"}
)
# Builtins that hand back what they are given (a copy of the same futures).
TRANSPARENT_BUILTINS = frozenset({"list", "tuple", "set", "sorted", "reversed", "iter"})
# Logging calls only format their arguments (`%s` of a future is its repr).
LOGGING_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
