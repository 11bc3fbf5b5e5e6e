"""The ``benchbase`` command line: its parser, its conventions, its commands.

Each command lives in a module of its own (``run_command``, ``report_command``
with ``compare``, ``list_command``, ``data_command``); this module builds the
parser and carries out the conventions every command shares (README,
"Command-line conventions"): exit statuses (``benchbase.cli.exits``), one-line
errors, a closed pipe that is no error, shell completion.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence

import benchbase
from benchbase.cli import exits
from benchbase.cli.data_command import add_data_parser
from benchbase.cli.exits import UsageError
from benchbase.cli.list_command import add_list_parser
from benchbase.cli.report_command import add_report_parsers
from benchbase.cli.run_command import add_run_parser
from benchbase.plan.suites import SuiteError
from benchbase.plugins import PluginError, UnknownNameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchbase",
        description="Benchmark ELM-family and autoencoder classifiers on image data.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {benchbase.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_run_parser(sub)
    add_report_parsers(sub)
    add_list_parser(sub)
    add_data_parser(sub)
    return parser


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings as the errors are: one line each, ``benchbase: warning: ...``,
    without Python's source line, and each once however often it is raised."""
    shown = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = f"benchbase: warning: {message}"
        if text not in shown:
            shown.add(text)
            print(text, file=sys.stderr)

    previous, warnings.showwarning = warnings.showwarning, show
    try:
        yield
    finally:
        warnings.showwarning = previous


def main(argv: Sequence[str] | None = None) -> int:
    with _one_line_warnings():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    _enable_completion(parser)
    try:
        args = parser.parse_args(argv)  # a usage error exits with exits.USAGE here
    except SystemExit:  # --help, --version, a usage error: what they printed must
        _flush_stdout()  # reach a closed pipe quietly too
        raise
    except BrokenPipeError:  # --help longer than the buffer, written at once
        _discard_stdout()
        return exits.OK
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return exits.OK
    except (UsageError, UnknownNameError, SuiteError) as exc:
        print(f"benchbase: error: {exc}", file=sys.stderr)
        return exits.USAGE
    except (PluginError, ValueError, OSError) as exc:
        print(f"benchbase: error: {exc}", file=sys.stderr)
        return exits.FAILED
    except KeyboardInterrupt:
        print("benchbase: interrupted; finished trials are saved", file=sys.stderr)
        return exits.INTERRUPTED


def _enable_completion(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (``pip install
    'benchbase-suite[completion]'``); it acts only when the shell asks."""
    if "_ARGCOMPLETE" not in os.environ:  # not a TAB: skip importing argcomplete
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()


def _discard_stdout() -> None:
    """``benchbase list | head -1``: the reader left, which is no error. What is
    still buffered goes nowhere (flushing it at exit would print a traceback)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
