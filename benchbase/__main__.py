# PYTHON_ARGCOMPLETE_OK
"""``python -m benchbase``: the same command line as ``benchbase``."""

import sys

from benchbase.cli import main

sys.exit(main())
