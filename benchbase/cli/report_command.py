"""``benchbase report`` and ``benchbase compare``: results folders read, compared, written up."""

from __future__ import annotations

import argparse
import math
import sys

from benchbase.cli import args as cli_args
from benchbase.cli import exits
from benchbase.cli.completion import completer
from benchbase.cli.exits import UsageError
from benchbase.paired import ROPE


def cmd_report(args: argparse.Namespace) -> int:
    from benchbase.report import build_report, check_formats, read_results

    try:
        formats = check_formats(cli_args.names(args.format))
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    try:
        results = read_results(args.results)
    except FileNotFoundError as exc:  # a folder or table that is not there
        raise UsageError(str(exc)) from None
    if args.headline:  # refused before any work, not after
        from benchbase.report.headline import find_headline, update_headline

        for file in args.headline:
            try:
                find_headline(file, args.results)
            except (OSError, ValueError) as exc:
                raise UsageError(f"--headline: {exc}") from None
    catalog = cli_args.command_catalog()
    try:
        written = build_report(results, args.out, formats, args.title, catalog,
                               rope=args.rope, focus=args.focus)
    except ValueError as exc:  # e.g. a --focus with no trial here
        raise UsageError(str(exc)) from None
    for path in written:
        print(path)
    for file in args.headline:
        print(f"{file} (headline {update_headline(file, args.results)})")
    return exits.OK


def cmd_compare(args: argparse.Namespace) -> int:
    from benchbase.report.compare import Threshold, compare_folders, markdown, regressions

    try:
        thresholds = [Threshold.parse(text) for text in args.fail_on]
        table, notes = compare_folders(args.before, args.after)
    except (ValueError, OSError) as exc:  # nothing to compare is a usage error here
        raise UsageError(str(exc)) from None
    print(markdown(table, notes, args.before, args.after), end="")
    found = regressions(table, thresholds)
    for line in found:
        print(f"REGRESSION: {line}")
    return exits.FAILED if found else exits.OK



def cmd_site(args: argparse.Namespace) -> int:
    from benchbase.report.site import build_site

    catalog = cli_args.command_catalog()
    try:
        written = build_site(args.results, args.out, args.title, catalog, rope=args.rope)
    except (FileNotFoundError, ValueError) as exc:  # a folder missing, unreadable or repeated
        raise UsageError(str(exc)) from None
    print(written[0])
    print(f"({len(written) - 1} more pages under {args.out})", file=sys.stderr)
    return exits.OK


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"expected accuracy points in [0, 100), got {text!r}")
    return value


#: ``benchbase export`` formats, by the file name's ending.
EXPORT_FORMATS = ("csv", "json", "parquet")


def cmd_export(args: argparse.Namespace) -> int:
    from benchbase.api import load

    if args.format == "parquet" and args.out is None:
        raise UsageError("--format parquet writes a binary file: name it with --out")
    try:
        frame = load(args.results).to_pandas()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    target = args.out if args.out is not None else sys.stdout
    if args.format == "csv":
        frame.to_csv(target, index=False)
    elif args.format == "json":  # one object per trial, one per line
        frame.to_json(target, orient="records", lines=True)
        if args.out is None:
            print()
    else:
        try:
            frame.to_parquet(target, index=False)
        except ImportError:
            raise UsageError("--format parquet needs pyarrow: pip install pyarrow") from None
    return exits.OK


def _rope_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rope", type=_points, default=None, metavar="POINTS",
                        help="region of practical equivalence, in accuracy points: pairs "
                        "whose difference lies within ±POINTS with posterior probability "
                        f"0.95 are called equivalent (default: the suite's rope, else "
                        f"{ROPE:g})")


def add_report_parsers(sub) -> None:
    report = sub.add_parser(
        "report", help="write an HTML and/or Markdown report of results folders",
        description="Compare algorithms across results folders: accuracy (mean ± std "
        "over seeds), runtime, the parameters chosen on validation for each seed, "
        "failed trials and provenance, with figures.",
    )
    report.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                        help="output folder(s) of `benchbase run`")
    report.add_argument("--out", default="report",
                        help="folder for report.html, report.md and figures/ "
                        "(default ./report)")
    report.add_argument("--format", default="html,md", metavar="html,md",
                        help="comma-separated: html (self-contained), md "
                        "(figures as SVG files); default both")
    report.add_argument("--title", help="the report's heading (default: benchbase report)")
    _rope_option(report)
    report.add_argument("--focus", metavar="ALGORITHM",
                        help="the algorithm whose comparison with every other the summary "
                        "gives (default: the suite's focus, else each dataset's leader)"
                        ).completer = completer("algorithms")
    report.add_argument("--headline", metavar="FILE", action="append", default=[],
                        help="also rewrite FILE's headline table made from these folders "
                             "(between '<!-- headline NAME: FOLDERS -->' and "
                             "'<!-- end headline NAME -->'; repeatable)")
    report.set_defaults(handler=cmd_report)

    compare = sub.add_parser(
        "compare", help="compare two runs of the same trials; fail on a regression",
        description="Match the trials of two results folders on algorithm, dataset, "
        "protocol, seed and fixed parameters (not on the plugin's version), and print "
        "per algorithm the test accuracy and fit time before and after, with paired "
        f"tests. Exit status: {exits.OK} no regression beyond --fail-on, "
        f"{exits.FAILED} a regression, {exits.USAGE} a usage error (bad "
        "option, unreadable folder, no trial in common).",
    )
    compare.add_argument("before", metavar="BEFORE", help="results folder of the baseline")
    compare.add_argument("after", metavar="AFTER", help="results folder to check")
    compare.add_argument("--fail-on", action="append", default=[],
                         metavar="accuracy:POINTS|time:PERCENT%",
                         help="exit 1 when a group's mean test accuracy drops by more than "
                         "POINTS, or its mean fit time grows by more than PERCENT; "
                         "repeatable")
    compare.set_defaults(handler=cmd_compare)

    site = sub.add_parser(
        "site", help="build one static, offline website of many results folders",
        description="Write SITE/index.html: every run of the folders (suite, date, "
        "commit, machine) linked to its folder's report, and per algorithm × dataset × "
        "protocol the history of test accuracy and fit time across runs. Static files, "
        "relative links, no network: open index.html from disk or serve the folder.")
    site.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                      help="output folder(s) of `benchbase run`, oldest to newest or any order")
    site.add_argument("--out", default="site", help="the site's folder (default ./site)")
    site.add_argument("--title", help="the index page's heading (default: benchbase results)")
    _rope_option(site)
    site.set_defaults(handler=cmd_site)

    export = sub.add_parser(
        "export", help="write a results folder as one tidy table (CSV, JSON lines, Parquet)",
        description="One row per trial (the latest of each), with every JSON field "
        "(params, fit_info, environment, ...) spread into columns named FIELD.KEY: "
        "the table benchbase.load(FOLDER).to_pandas() returns.")
    export.add_argument("results", metavar="RESULTS_DIR", help="output folder of `benchbase run`")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv",
                        help="csv (default), json (one object per line) or parquet "
                        "(needs pyarrow)")
    export.add_argument("--out", default=None, metavar="FILE",
                        help="the file to write (default: standard output; parquet needs one)")
    export.set_defaults(handler=cmd_export)
