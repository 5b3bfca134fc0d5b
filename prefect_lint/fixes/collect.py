"""Submit every task of a loop first, then collect: the rewrite PFL103 and PFL110 share.

`element` is the expression inside the loop that becomes `<name>.<method>()` once `submit`
(a `.submit(...)` call) has been made for every iteration up front.
"""

from __future__ import annotations

import libcst as cst

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp)


def collect_comprehension(
    comp: cst.ListComp | cst.SetComp | cst.GeneratorExp,
    submit: cst.Call,
    method: str,
    name: str,
) -> cst.CSTNode:
    """`[t(x) for x in xs]` -> `[f.result() for f in [t.submit(x) for x in xs]]`; the
    comprehension's own element is what gets collected."""
    submits = cst.ListComp(elt=submit, for_in=comp.for_in)
    collect = _collect(name, method)
    return comp.with_changes(elt=collect, for_in=cst.CompFor(target=cst.Name(name), iter=submits))


def collect_loop(
    loop: cst.For, element: cst.Call, submit: cst.Call, method: str, name: str
) -> cst.CSTNode | None:
    """`for x in xs: element` -> `for f in [submit for x in xs]: f.method()`, and
    `for x in xs: out.append(element)` -> `out.extend([f.method() for f in [...]])`.

    Only a loop whose body is that one statement, without `else` or `async`; None otherwise.
    """
    body = loop.body
    if loop.orelse is not None or loop.asynchronous is not None:
        return None
    if not (isinstance(body, cst.IndentedBlock) and len(body.body) == 1):
        return None
    line = body.body[0]
    if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        return None
    statement = line.body[0]
    if not isinstance(statement, cst.Expr):
        return None
    submits = cst.ListComp(elt=submit, for_in=cst.CompFor(target=loop.target, iter=loop.iter))
    collect = _collect(name, method)
    value = statement.value
    if value is element:
        # Keep the loop, over futures that were all submitted first.
        return loop.with_changes(
            target=cst.Name(name), iter=submits, body=body.deep_replace(element, collect)
        )
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "append"
        and len(value.args) == 1
        and value.args[0].value is element
    ):
        collected = cst.ListComp(
            elt=collect, for_in=cst.CompFor(target=cst.Name(name), iter=submits)
        )
        extend = value.with_changes(
            func=value.func.with_changes(attr=cst.Name("extend")), args=[cst.Arg(collected)]
        )
        return line.with_changes(
            body=[statement.with_changes(value=extend)], leading_lines=loop.leading_lines
        )
    return None


def _collect(name: str, method: str) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=cst.Name(name), attr=cst.Name(method)))
