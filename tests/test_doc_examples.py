"""How a partial "Use instead" block is completed from the Example (tests/doc_examples.py)."""

from __future__ import annotations

import pytest

from tests.doc_examples import ELIDED, whole_module

EXAMPLE = """\
from prefect import flow, task

LIMIT = 3


@task
def double(n: int) -> int:
    return n * 2


@flow
def parent() -> None:
    double(1)


parent()
"""


def test_a_complete_block_is_itself() -> None:
    complete = EXAMPLE.replace("LIMIT = 3", "LIMIT = 4")
    assert whole_module(EXAMPLE, complete) == complete


def test_shown_statements_replace_their_namesakes_and_the_rest_is_kept() -> None:
    shown = f"""\
from prefect import flow, task
from prefect.futures import wait

{ELIDED}


@flow
def parent() -> None:
    wait([double.submit(1)])


if __name__ == "__main__":
    parent()
"""
    assert whole_module(EXAMPLE, shown) == (
        EXAMPLE.replace(
            "from prefect import flow, task\n",
            "from prefect import flow, task\nfrom prefect.futures import wait\n",
        )
        .replace("    double(1)\n", "    wait([double.submit(1)])\n")
        .replace("\nparent()\n", '\nif __name__ == "__main__":\n    parent()\n')
    )


def test_a_statement_the_example_lacks_is_an_error() -> None:
    with pytest.raises(AssertionError, match="lacks"):
        whole_module(EXAMPLE, f"{ELIDED}\n\n\ndef helper() -> None:\n    pass\n")
