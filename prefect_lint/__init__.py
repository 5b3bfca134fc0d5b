"""prefect-lint: static analysis for Prefect 3 workflow code."""

__version__ = "0.1.0"
