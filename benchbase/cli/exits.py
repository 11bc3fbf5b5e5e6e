"""The exit statuses of every ``benchbase`` command (README: command-line conventions)."""

import signal

#: Success.
OK = 0
#: The command ran but something failed: a trial, a data check, a regression.
FAILED = 1
#: The command line asked for something impossible: an unknown option, name or
#: value, a folder or file that is not there. Nothing was run.
USAGE = 2
#: Stopped by Ctrl-C (finished trials are saved).
INTERRUPTED = 128 + signal.SIGINT
#: Stopped by SIGTERM (finished trials are saved).
TERMINATED = 128 + signal.SIGTERM


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status ``USAGE``."""
