"""Small rewrites of call nodes shared by several fixes."""

from __future__ import annotations

import libcst as cst

from prefect_lint.model.module import keyword_arg


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value`: the existing keyword's value replaced, else one appended
    in the usual `f(a, name=value)` layout."""
    existing = keyword_arg(call, name)
    args = list(call.args)
    if existing is not None:
        args[args.index(existing)] = existing.with_changes(value=value)
        return call.with_changes(args=args)
    if args:
        args[-1] = args[-1].with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        )
    keyword = cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    return call.with_changes(args=[*args, keyword])
