"""`json-lines`: the `json` records, one compact object per line (streamable, greppable)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from prefect_lint.engine.report import FileReport
from prefect_lint.output.json_format import iter_records


def render_json_lines(reports: Sequence[FileReport]) -> str:
    return "".join(json.dumps(record, sort_keys=True) + "\n" for record in iter_records(reports))
