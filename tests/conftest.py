from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite fixtures/**/*.fixed.py and tests/snapshots/*.txt from the current output "
        "(review the diff!)",
    )
