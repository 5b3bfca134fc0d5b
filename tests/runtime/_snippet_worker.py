"""Runs code snippets for `tests/runtime/prefect2.py`, inside the Python whose Prefect is tested.

Started as `python _snippet_worker.py`; it has no imports from the repository, so it runs as
well in the cached Prefect 2 virtualenv as in the test venv. Importing Prefect costs seconds,
so the worker imports it once and then forks a child per snippet: every snippet starts from
the same state ("prefect is imported, nothing else"), none sees what an earlier one did, and
importing Prefect is paid once per session. Forking is safe here because importing Prefect
starts no thread (checked on 2.20.17 and 3.9.1); the children start their own.

Protocol: one JSON object per line on stdin (`{"code": ..., "timeout": ...}`), one JSON object
per line on the worker's original stdout (the result). Everything else the worker or a
snippet prints goes to files, never into the protocol stream.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import traceback
import warnings


def _describe(exc: BaseException) -> dict[str, object]:
    kind = type(exc)
    return {
        "type": kind.__name__,
        "qualname": f"{kind.__module__}.{kind.__qualname__}",
        "mro": [f"{k.__module__}.{k.__qualname__}" for k in kind.__mro__],
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(kind, exc, exc.__traceback__)),
    }


def _json_value(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _child(code: str, out_path: str, err_path: str, result_path: str) -> None:
    out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(err, 2)
    result: dict[str, object] = {"exception": None, "warnings": [], "value": None}
    namespace: dict[str, object] = {"__name__": "__snippet__"}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(compile(code, "<snippet>", "exec"), namespace)
            except BaseException as exc:
                result["exception"] = _describe(exc)
            result["warnings"] = [
                {
                    "category": w.category.__name__,
                    "mro": [k.__name__ for k in w.category.__mro__],
                    "message": str(w.message),
                }
                for w in caught
            ]
        result["value"] = _json_value(namespace.get("result"))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        with open(result_path, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        os._exit(0)


def _run(request: dict[str, object], workdir: str, number: int) -> dict[str, object]:
    base = os.path.join(workdir, f"snippet-{number}")
    out_path, err_path, result_path = base + ".out", base + ".err", base + ".json"
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        _child(str(request["code"]), out_path, err_path, result_path)
    deadline = started + float(request.get("timeout", 300))  # type: ignore[arg-type]
    status = None
    while status is None:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = -1
        else:
            time.sleep(0.02)
    response: dict[str, object] = {"exception": None, "warnings": [], "value": None}
    if os.path.exists(result_path):
        with open(result_path, encoding="utf-8") as handle:
            response.update(json.load(handle))
    response["timed_out"] = status == -1
    response["exit_code"] = os.waitstatus_to_exitcode(status) if status != -1 else None
    response["seconds"] = round(time.monotonic() - started, 3)
    for key, path in (("stdout", out_path), ("stderr", err_path)):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                response[key] = handle.read()
        except OSError:
            response[key] = ""
    for path in (out_path, err_path, result_path):
        if os.path.exists(path):
            os.remove(path)
    return response


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray prints of the worker itself go to stderr
    import prefect  # the one import every snippet shares

    protocol.write(json.dumps({"ready": True, "version": prefect.__version__}) + "\n")
    workdir = tempfile.mkdtemp(prefix="prefect-lint-snippets-")
    for number, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        response = _run(json.loads(line), workdir, number)
        protocol.write(json.dumps(response) + "\n")


if __name__ == "__main__":
    main()
