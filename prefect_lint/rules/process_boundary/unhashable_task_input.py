"""PFL205 unhashable-task-input: a task parameter typed as something the cache cannot hash."""

from __future__ import annotations

import ast

import libcst as cst

from prefect_lint.model import precheck
from prefect_lint.model.pickling import UNHASHABLE_ANNOTATIONS, UNPICKLABLE
from prefect_lint.model.relevance import chain_values
from prefect_lint.model.values import Dotted, Task
from prefect_lint.rules.base import Rule, RuleMeta
from prefect_lint.rules.process_boundary.shared import NO_CACHE_FIX, no_cache_fix
from prefect_lint.versions import since


class UnhashableTaskInput(Rule):
    """a task input cannot be hashed by the default cache policy

    ## What it does
    Checks tasks for a parameter annotated with a type whose objects cannot be hashed (a
    database connection, an HTTP client, a lock, a socket, a boto3 client, an executor, ...)
    when the task keeps the default cache policy: no `cache_policy=`, `cache_key_fn=`,
    `persist_result=` or `result_storage_key=`.

    ## Why is this bad?
    Before each run, Prefect 3's default cache policy hashes the task's inputs: as JSON, else
    with cloudpickle. Neither can serialize such an object, so every run of the task logs
    `Error encountered when computing cache key - result will not be persisted.` at ERROR level,
    with a traceback (`ValueError: Unable to create hash - objects could not be serialized`).
    The task still runs, but the log is alarming, monitoring picks it up, and the result is
    never cached.

    Parameters with a default value and annotations such as `Optional[...]` are left alone
    (the value may be hashable). `requests.Session` is not flagged: it pickles, so it hashes.
    PFL202 reports the same problem where a flow passes such an object it built itself.

    ## Example
    ```python
    import sqlite3

    from prefect import task


    @task
    def count_rows(conn: sqlite3.Connection, table: str) -> int:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]
    ```

    ## Use instead
    ```python
    import sqlite3

    from prefect import task
    from prefect.cache_policies import NO_CACHE


    @task(cache_policy=NO_CACHE)
    def count_rows(conn: sqlite3.Connection, table: str) -> int:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]
    ```

    ## Fix safety
    The fix adds `cache_policy=NO_CACHE` to the task's decorator, importing it from
    `prefect.cache_policies`. It is safe: inputs of this type could never be hashed, so the task
    was never cached and still is not; only the ERROR log goes away.

    ## Versions
    Cache policies and this log are Prefect 3's (2.x tasks compute no cache key by default);
    proven on Prefect 3.9 with an sqlite3 connection. Reported from 3.2 on, like PFL202's cache
    case: `NO_CACHE`, which the message and the fix name, first shipped in 3.1.12.

    ## Prefect facts
    - default-cache-key-hashes-inputs
    """

    meta = RuleMeta(versions=since("3.2"), fix=NO_CACHE_FIX)
    trigger = precheck.Trigger(
        "a parameter of a decorated `def` is annotated with a name the default cache policy "
        "cannot hash (or project values)",
        lambda pre: (
            pre.project_values()
            or (pre.any_name(UNHASHABLE_ANNOTATIONS.__contains__) and _annotated_unhashable(pre))
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not node.decorators:
            return
        model = self.context.model
        scope = self.context.scope(node)
        candidates = [
            param
            for param in (*node.params.params, *node.params.kwonly_params)
            if param.annotation is not None and param.default is None
        ]
        if not candidates:
            return
        task = model.value_of_def(node, scope)
        if not isinstance(task, Task) or task.default_cache is not True:
            return
        fix = None
        for param in candidates:
            assert param.annotation is not None
            annotation = param.annotation.annotation
            value = model.evaluate(annotation, scope)
            if not isinstance(value, Dotted) or value.name not in UNHASHABLE_ANNOTATIONS:
                continue
            kind = UNPICKLABLE[UNHASHABLE_ANNOTATIONS[value.name]]
            fix = fix or no_cache_fix(self.context, task)
            written = self.context.module.code_for_node(annotation)
            message = (
                f"parameter `{param.name.value}: {written}` is {kind.description}, which the "
                f"default cache policy cannot hash: every run of `{task.name or 'the task'}` "
                "logs an ERROR 'Error encountered when computing cache key'; set "
                "`cache_policy=NO_CACHE` on the task"
            )
            self.report(annotation, message, fix=fix)


def _annotated_unhashable(pre: precheck.Precheck) -> bool:
    """A parameter annotation of a decorated `def` holding a chain that the file's imports and
    aliases may resolve into `UNHASHABLE_ANNOTATIONS`: what `visit_FunctionDef` evaluates,
    and more (parameters with defaults, chains nested in subscripts)."""
    bound = pre.facts.bound
    for node, _ in pre.index.functions:
        if not node.decorator_list:
            continue
        arguments = node.args
        for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            if argument.annotation is None:
                continue
            for part in ast.walk(argument.annotation):
                if isinstance(part, (ast.Name, ast.Attribute)) and any(
                    value in UNHASHABLE_ANNOTATIONS for value in chain_values(part, bound)
                ):
                    return True
    return False
