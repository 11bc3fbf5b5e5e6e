# PYTHON_ARGCOMPLETE_OK
"""The ``benchbase`` command line (``main``); ``python -m benchbase`` runs the same."""

from benchbase.cli.main import main

__all__ = ["main"]
