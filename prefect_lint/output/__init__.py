"""Report renderers, one module per `--output-format` (plus `--statistics` and `--show-fixes`)."""

from __future__ import annotations

# Names as ruff spells them, so CI configs read the same for both tools.
OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "github", "sarif")
# Formats that carry each fix's edits, so checking must render them.
FORMATS_WITH_EDITS = frozenset({"json", "json-lines", "sarif"})
