"""Where the results were made: folders, runs, machines and software.

Rows written since benchbase recorded provenance carry ``host`` and an
``environment`` (``benchbase.results.provenance``); each folder's ``runs.jsonl`` has
the runs' command lines. ``warnings`` says plainly when a report mixes
machines, software, thread counts or concurrent trials, or when other work
kept the host busy during trials (then times are not comparable across
them); the report puts them at its top.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from benchbase.report.document import Block, Details, Heading, Notice, Paragraph, Table
from benchbase.report.tables import distinct, integer, minute
from benchbase.results.record import Status

MACHINE_FIELDS = ("host", "CPU", "cores (usable / all)", "memory GiB", "GPU")
BLAS = "BLAS threads"
OTHER_CPUS_COLUMNS = ("select_other_cpus", "fit_other_cpus")
#: CPUs kept busy by others beyond the run's own other trials (threads ×
#: (concurrency − 1)) that count as crowding: a lone trial reads up to about
#: 0.1 (the orchestrator and the system run beside it).
OTHER_CPUS_MARGIN = 0.5


def _date_range(started_at: pd.Series) -> str:
    stamps = pd.to_datetime(started_at[started_at != ""], utc=True, format="ISO8601")
    if stamps.empty:
        return "—"
    first, last = (stamp.strftime("%Y-%m-%d %H:%M") for stamp in (stamps.min(), stamps.max()))
    return f"{first} – {last}"


def folders_table(results: pd.DataFrame) -> Table:
    """Per results folder: trial counts, versions, BLAS threads, date range."""
    sources = results["source"] if "source" in results else pd.Series("—", results.index)
    records = []
    for source, rows in results.groupby(sources, sort=True):
        ok = int((rows["status"] == Status.OK).sum())
        records.append({
            "folder": source,
            "trials": str(len(rows)),
            "ok": str(ok),
            "failed": str(len(rows) - ok),
            "benchbase": distinct(rows["benchbase_version"]),
            "plugins": distinct(rows["plugin"]),
            "BLAS threads": distinct(rows["blas_threads"], integer),
            "started (UTC)": _date_range(rows["started_at"]),
        })
    return Table(pd.DataFrame(records), right=("trials", "ok", "failed", "BLAS threads"))


def describe_environment(environment: Mapping[str, Any]) -> dict[str, str]:
    """A row's environment JSON as display fields: machine, then software
    (BLAS apart: which libraries a process loads depends on the algorithm)."""
    fields = {
        "host": environment.get("host") or "—",
        "CPU": environment.get("cpu") or "—",
        "cores (usable / all)": f"{environment.get('usable_cores', '?')} / "
                                f"{environment.get('cpu_count', '?')}",
        "memory GiB": str(environment.get("memory_gib") or "—"),
        "GPU": environment.get("gpu") or "none",
        "OS": environment.get("os") or "—",
        "Python": environment.get("python") or "—",
    }
    for name, version in sorted(environment.get("packages", {}).items()):
        fields[name] = version or "not installed"
    commit = environment.get("git_commit") or "—"
    fields["git commit"] = commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")
    return fields


def _blas_threads(environment: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(library, threads) of each BLAS/OpenMP library the process had loaded."""
    return [(f"{lib.get('api', '')} {lib.get('version') or ''}".strip(),
             str(lib.get("threads", "?"))) for lib in environment.get("blas", [])]


def _environments(results: pd.DataFrame) -> pd.DataFrame:
    """One row per result row that recorded its environment: display fields,
    plus ``_algorithm`` and ``_blas`` (its (library, threads) pairs)."""
    if "environment" not in results:
        return pd.DataFrame()
    records = []
    for text, algorithm in zip(results["environment"], results["algorithm"], strict=True):
        if not text:
            continue
        try:
            environment = json.loads(text)
        except json.JSONDecodeError:
            continue
        records.append({**describe_environment(environment), "_algorithm": algorithm,
                        "_blas": _blas_threads(environment)})
    return pd.DataFrame(records).fillna("—")


def _fields(environments: pd.DataFrame) -> list[str]:
    return [name for name in environments.columns if not name.startswith("_")]


def _blas_summary(blas: pd.Series) -> dict[str, list[str]]:
    """library -> the thread counts it had across these trials."""
    threads: dict[str, set[str]] = {}
    for pairs in blas:
        for library, count in pairs:
            threads.setdefault(library, set()).add(count)
    return {library: sorted(counts, key=lambda n: (len(n), n))
            for library, counts in sorted(threads.items())}


def environments_table(environments: pd.DataFrame) -> Table:
    """Fields down, one column per distinct environment (with its trials)."""
    fields = _fields(environments)
    groups = list(environments.groupby(fields, sort=True))
    columns = {"": [*fields, BLAS, "trials", "algorithms"]}
    for index, (values, rows) in enumerate(groups, 1):
        blas = _listing(_blas_summary(rows["_blas"])) or "—"
        columns[f"environment {index}"] = [
            *values, blas, str(len(rows)), ", ".join(sorted(set(rows["_algorithm"])))]
    return Table(pd.DataFrame(columns))


def runs_table(runs: Mapping[str, list[dict[str, Any]]]) -> Table | None:
    records = [{"folder": folder, "run": str(run.get("run_id", ""))[:12],
                "started (UTC)": minute(run.get("started_at", "")),
                "host": run.get("environment", {}).get("host", "—"),
                "command": run.get("command", "—")}
               for folder, records in runs.items() for run in records]
    return Table(pd.DataFrame(records)) if records else None


def _differing(environments: pd.DataFrame, fields: list[str]) -> dict[str, list[str]]:
    return {name: sorted(set(environments[name])) for name in fields
            if name in environments and environments[name].nunique() > 1}


def _listing(differing: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{name}: {', '.join(values)}" for name, values in differing.items())


def warnings(results: pd.DataFrame) -> list[Notice]:
    """Plain statements of what makes times incomparable across these rows."""
    notices = []
    environments = _environments(results)
    if not environments.empty:
        machines = _differing(environments, list(MACHINE_FIELDS))
        if machines:
            notices.append(Notice(
                f"These results come from more than one machine ({_listing(machines)}). "
                "Accuracies compare; times compare only between trials of one machine."))
        software = _differing(environments, [name for name in _fields(environments)
                                             if name not in MACHINE_FIELDS])
        threads = {library: counts for library, counts
                   in _blas_summary(environments["_blas"]).items() if len(counts) > 1}
        if threads:
            software[BLAS] = [_listing(threads)]
        if software:
            notices.append(Notice(
                f"The software differs between trials ({_listing(software)}); times may "
                "differ for that reason alone."))
    if results["threads"].nunique(dropna=True) > 1:
        notices.append(Notice(
            f"Trials ran with different thread counts ({distinct(results['threads'], integer)}):"
            " compare their times with care."))
    shared = results[pd.to_numeric(results["concurrency"], errors="coerce") > 1]
    if not shared.empty:
        notices.append(Notice(
            f"{len(shared)} trial(s) ran while other trials ran at the same time "
            f"(up to {int(pd.to_numeric(shared['concurrency']).max())} at once; "
            f"executor {distinct(shared['executor'])}): their times include sharing the "
            "machine and are not comparable with trials that ran one at a time."))
    crowded = _crowded(results)
    if not crowded.empty:
        notices.append(Notice(
            f"{len(crowded)} trial(s) ran while other work kept the host busy, beyond "
            f"this run's own trials (up to {crowded.max():.1f} CPUs busy with other "
            f"processes; columns {', '.join(OTHER_CPUS_COLUMNS)}): their times are "
            "slower than on a quiet machine and compare only with care."))
    return notices


def _crowded(results: pd.DataFrame) -> pd.Series:
    """CPUs other processes kept busy (in the busier stage) for each trial where
    they exceed, by the margin, what its run's other trials explain
    (threads × (concurrency − 1))."""
    others = results[list(OTHER_CPUS_COLUMNS)].apply(pd.to_numeric,
                                                     errors="coerce").max(axis=1)
    concurrency = pd.to_numeric(results["concurrency"], errors="coerce").fillna(1)
    siblings = pd.to_numeric(results["threads"], errors="coerce") * (concurrency - 1)
    return others[others > siblings + OTHER_CPUS_MARGIN]


def section(results: pd.DataFrame, runs: Mapping[str, list[dict[str, Any]]]) -> list[Block]:
    blocks: list[Block] = [
        folders_table(results),
        Paragraph("Versions and BLAS threads as recorded by each trial; the dates "
                  "are when the trials started."),
    ]
    table = runs_table(runs)
    if table is not None:
        blocks += [Heading(3, "Runs"), Paragraph("Each run's exact command line "
                                                 "(runs.jsonl of its folder)."), table]
    environments = _environments(results)
    if environments.empty:
        blocks.append(Paragraph("The rows record no machine or software details "
                                "(written by an older benchbase)."))
    else:
        blocks += [Heading(3, "Machines and software"),
                   Paragraph("Each distinct environment the trials ran in, as the trial "
                             "process recorded it."),
                   environments_table(environments)]
        missing = len(results) - len(environments)
        if missing:
            blocks.append(Paragraph(f"{missing} trial(s) record no environment "
                                    "(written by an older benchbase)."))
    return [Heading(2, "Provenance"),
            Details("Results folders, runs, machines and software", blocks)]
