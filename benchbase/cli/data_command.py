"""``benchbase data list | fetch NAME | verify [NAME] | info NAME``.

``add_data_parser(subparsers)`` adds the ``data`` command to the main parser;
each sub-command stores its handler as ``handler`` (as every command does);
``args.handler(args)`` returns the exit code (0 success, 1 failure). Expected
errors are caught here and printed as one line on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchbase import data
from benchbase.cli import exits
from benchbase.cli.completion import completer
from benchbase.cli.exits import UsageError
from benchbase.plugins import PluginError, UnknownNameError, load_catalog
from benchbase.specs import DataContext, DatasetSpec

Handler = Callable[[argparse.Namespace], int]


def add_data_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``data`` and its sub-commands to an ``add_subparsers()`` object."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--data-dir", metavar="DIR",
        help="look here first for <DIR>/<dataset>/<file> (before $BENCHBASE_DATA "
        "and the cache)")
    options.add_argument(
        "--cache-dir", metavar="DIR",
        help="cache for downloads and decoded arrays (default: $BENCHBASE_CACHE "
        "or the user cache folder)")
    options.add_argument("--offline", action="store_true",
                         help="never download; use only files already present")
    parser = subparsers.add_parser(
        "data", help="list, download, verify and describe datasets",
        description="Manage dataset files: where they are, their checksums, "
        "downloads into the cache.")
    commands = parser.add_subparsers(dest="data_command", metavar="COMMAND",
                                     required=True)
    sub = commands.add_parser("list", parents=[options],
                              help="every dataset and whether its files are here")
    sub.set_defaults(handler=_guarded(cmd_list))
    sub = commands.add_parser("fetch", parents=[options],
                              help="download (if needed), verify and decode NAME")
    sub.add_argument("name", metavar="NAME").completer = completer("datasets")
    sub.set_defaults(handler=_guarded(cmd_fetch))
    sub = commands.add_parser(
        "verify", parents=[options],
        help="check the checksums and decode NAME (default: every dataset whose "
        "files are present)")
    sub.add_argument("name", metavar="NAME", nargs="?").completer = completer("datasets")
    sub.set_defaults(handler=_guarded(cmd_verify))
    sub = commands.add_parser("info", parents=[options],
                              help="files, checksums, URLs and contents of NAME")
    sub.add_argument("name", metavar="NAME").completer = completer("datasets")
    sub.set_defaults(handler=_guarded(cmd_info))
    return parser


def _guarded(handler: Handler) -> Handler:
    """Turn expected failures into one line on stderr: exit status 2 for a usage
    error (an unknown name, a --data-dir that is not there), 1 for data that
    fail their checks."""

    def run(args: argparse.Namespace) -> int:
        try:
            if args.data_dir is not None and not Path(args.data_dir).is_dir():
                raise UsageError(f"--data-dir {args.data_dir}: no such folder")
            return handler(args)
        except BrokenPipeError:
            raise  # the reader left: main's convention (exit 0), not a data error
        except (UnknownNameError, UsageError) as exc:
            print(f"benchbase data {args.data_command}: error: {exc}", file=sys.stderr)
            return exits.USAGE
        except (data.DataError, PluginError, OSError) as exc:
            print(f"benchbase data {args.data_command}: error: {exc}", file=sys.stderr)
            return exits.FAILED

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _context(args: argparse.Namespace) -> DataContext:
    return DataContext(data_dir=args.data_dir, allow_download=not args.offline,
                       cache_dir=args.cache_dir)


def _present(spec: DatasetSpec, context: DataContext) -> str:
    """Where the first complete source's files are, unverified (cheap)."""
    for source in spec.sources:
        paths = [data.find_file(spec.name, source, f, context) for f in source.files]
        if all(paths):
            folders = sorted({str(p.parent) for p in paths})
            return f"present ({source.label}) in {', '.join(folders)}"
    if any(all(f.urls for f in s.files) for s in spec.sources):
        return "not here (downloadable)"
    return "not here"


def cmd_list(args: argparse.Namespace) -> int:
    """Every dataset, and whether its files are present."""
    context = _context(args)
    for spec in load_catalog().datasets.specs():
        status = "embedded" if spec.embedded else (
            _present(spec, context) if spec.sources else "no files declared")
        print(f"{spec.name:<15} {status}\n{'':<15} {spec.description}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Obtain NAME's files (downloading into the cache if allowed), verify them
    and decode them once so that later runs load from the array cache."""
    spec = load_catalog().dataset(args.name)
    context = _context(args)
    if spec.sources:
        located = data.locate(spec.name, spec.sources, context)
        for path in located.paths.values():
            print(f"{spec.name}: verified {path}")
    print(f"{spec.name}: {_summary(spec.open(context))}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check checksums and decode one dataset, or every one whose files are here."""
    catalog = load_catalog()
    context = dataclasses.replace(_context(args), allow_download=False)
    specs = [catalog.dataset(args.name)] if args.name else catalog.datasets.specs()
    failures = 0
    for spec in specs:
        if spec.embedded:
            print(f"{spec.name}: embedded, nothing to verify")
            continue
        try:
            where = ""
            if spec.sources:
                located = data.locate(spec.name, spec.sources, context)
                folders = sorted({str(p.parent) for p in located.paths.values()})
                where = (f"{len(located.paths)} files ({located.source.label}) "
                         f"in {', '.join(folders)}; ")
            print(f"{spec.name}: verified: {where}{_summary(spec.open(context))}")
        except data.DataNotFoundError:
            if args.name:
                raise
            print(f"{spec.name}: files not here, skipped (`benchbase data info "
                  f"{spec.name}` says where they are looked for)")
        except data.DataError as exc:
            failures += 1
            print(f"{spec.name}: FAILED: {exc}")
    return exits.FAILED if failures else exits.OK


def cmd_info(args: argparse.Namespace) -> int:
    """Describe NAME: files, checksums, URLs, where found and, if present, what
    it holds."""
    spec = load_catalog().dataset(args.name)
    context = dataclasses.replace(_context(args), allow_download=False)
    print(f"name:        {spec.name}")
    print(f"description: {spec.description}")
    if spec.homepage:
        print(f"homepage:    {spec.homepage}")
    subset = spec.paper_subset
    protocol = ("the official split" if subset is None
                else f"random {subset[0]} train / {subset[1]} test per seed")
    print(f"paper protocol: {protocol}")
    if spec.sources:
        print("searched:    " + ", ".join(f"{root} ({why})"
                                          for why, root in data.data_roots(context)))
    for source in spec.sources:
        print(f"source {source.label}:")
        for f in source.files:
            found = data.find_file(spec.name, source, f, context)
            print(f"  {f.name}: {found or 'not here'}")
            for digest in f.sha256:
                print(f"    sha256 {digest}")
            if f.md5:
                print(f"    md5 {f.md5}")
            if f.content_sha256:
                print(f"    uncompressed sha256 {f.content_sha256}")
            if f.size is not None:
                print(f"    size {f.size:,} bytes")
            for url in f.urls:
                print(f"    url {url}")
    try:
        dataset = spec.open(context)
    except data.DataNotFoundError:
        print("contents:    (files not here; `benchbase data fetch "
              f"{spec.name}` downloads them)")
        return 0
    print(f"contents:    {_summary(dataset)}")
    for part, y in (("train", dataset.y_train), ("test", dataset.y_test)):
        counts = np.bincount(y)
        print(f"  {part} label counts: "
              + ", ".join(f"{label}: {n}" for label, n in enumerate(counts) if n))
    return 0


def _summary(dataset) -> str:
    shape = "×".join(str(n) for n in dataset.image_shape)
    return (f"{len(dataset.y_train):,} train / {len(dataset.y_test):,} test images "
            f"of {shape}, {len(np.unique(dataset.y_train))} classes")
