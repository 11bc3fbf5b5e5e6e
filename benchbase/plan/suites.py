"""Suites: a whole comparison as one TOML file (datasets, protocols, algorithms, seeds).

A suite is data, not code: plugins ship suites through the
``benchbase_register_suites`` hook (a list of TOML files), and a user runs
their own with ``benchbase run PATH.toml``. The format::

    description = "The paper's Tables 3.1 and 3.2"   # one line for `benchbase list`
    seeds = 5                  # a count (0..N-1), a list [0, 3, 7] or a range "10-14"
    timeout = 3600             # seconds per trial (optional)
    focus = "DDAE"             # the algorithm the report's summary compares (optional)
    rope = 0.2                 # the report's region of practical equivalence, points

    [[experiment]]             # one or more
    datasets = ["usps"]        # omitted: the embedded datasets
    protocol = "official"      # official (default), paper or subset:TRAIN/TEST
    algorithms = ["KELM"]      # omitted: every available algorithm
    seeds = 3                  # optional: overrides the suite's
    [experiment.params]        # fixed parameters (removed from the search)
    KELM = { dtype = "float64" }
    [experiment.sweep]         # every combination runs as its own variant
    DDAE = { keep_prob = [0.5, 0.9], mask = ["sample", "batch"] }

Every mistake is reported with the file and the field it is in.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchbase.names import canonical, did_you_mean
from benchbase.trial.splits import Protocol
from benchbase.trial.task import Trial

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SUITE_KEYS = {"description", "seeds", "timeout", "experiment", "timings", "peak_memory_mb",
              "focus", "rope"}
EXPERIMENT_KEYS = {"datasets", "protocol", "algorithms", "seeds", "params", "sweep"}
_RANGE_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file and field."""


def parse_seeds(value: Any, where: str = "seeds") -> tuple[int, ...]:
    """Seeds from a count (5 → 0..4), a list ([0, 3]) or text: "5", "0,3,7", "10-14"."""
    if isinstance(value, str):
        text = value.strip()
        match = _RANGE_RE.match(text)
        if match:
            first, last = int(match[1]), int(match[2])
            if last < first:
                raise ValueError(f"{where}: range {text!r} is empty (the end is "
                                 "before the start)")
            return tuple(range(first, last + 1))
        parts = [part.strip() for part in text.split(",")]
        if not all(part.isdigit() for part in parts):
            raise ValueError(f"{where}: {value!r} is not a count, a list such as "
                             "0,3,7 or a range such as 10-14")
        value = int(parts[0]) if len(parts) == 1 else [int(part) for part in parts]
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a count, list or range, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"{where}: the count must be at least 1, got {value}")
        return tuple(range(value))
    if isinstance(value, list) and value and all(
            isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
            for seed in value):
        if len(set(value)) != len(value):
            raise ValueError(f"{where}: {value} repeats a seed")
        return tuple(value)
    raise ValueError(f"{where}: expected a count, a non-empty list of seeds >= 0 or a "
                     f"range such as \"10-14\", got {value!r}")


@dataclasses.dataclass(frozen=True)
class Experiment:
    """Datasets × algorithms × seeds under one protocol; None means the default."""

    datasets: tuple[str, ...] | None
    protocol: str
    algorithms: tuple[str, ...] | None
    seeds: tuple[int, ...]
    params: Mapping[str, Mapping[str, Any]]
    sweep: Mapping[str, Mapping[str, Sequence[Any]]]

    def variants(self, algorithm: str) -> list[dict[str, Any]]:
        """The fixed parameters of each variant of ``algorithm`` (one if unswept)."""
        fixed = dict(self.params.get(algorithm, {}))
        swept = self.sweep.get(algorithm, {})
        names = sorted(swept)
        return [{**fixed, **dict(zip(names, values, strict=True))}
                for values in itertools.product(*(swept[name] for name in names))]


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    source: str
    description: str
    experiments: tuple[Experiment, ...]
    timeout: float | None = None
    #: Trial seconds measured before, per kind (``benchbase.plan.schedule``):
    #: which trials start first when nothing better is known.
    timings: Mapping[tuple, float] = dataclasses.field(default_factory=dict)
    #: Peak memory (MiB) measured before, per kind: which trials may run at
    #: once (``benchbase.execution.orchestrator``).
    peak_memory_mb: Mapping[tuple, float] = dataclasses.field(default_factory=dict)
    #: The algorithm whose comparisons the report's summary shows (None: the leader's).
    focus: str | None = None
    #: The report's region of practical equivalence, points (None: the default).
    rope: float | None = None

    def report_settings(self) -> dict[str, Any]:
        """What a run records for its report (runs.jsonl ``suite``)."""
        return {"name": self.name, "focus": self.focus, "rope": self.rope}

    def algorithms(self) -> set[str]:
        """Every algorithm the suite names (empty when it runs every available one)."""
        return {name for experiment in self.experiments
                for name in experiment.algorithms or ()}


def _names(value: Any, where: str) -> tuple[str, ...]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(name, str) and name for name in value)):
        raise SuiteError(f"{where}: expected a non-empty list of names, got {value!r}")
    return tuple(value)


def _per_algorithm(value: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise SuiteError(f"{where}: expected a table of ALGORITHM = {{ name = value }}, "
                         f"got {value!r}")
    return {algorithm: dict(params) for algorithm, params in value.items()}


def _experiment(raw: Any, where: str, seeds: tuple[int, ...] | None) -> Experiment:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: expected a table ([[experiment]])")
    unknown = sorted(set(raw) - EXPERIMENT_KEYS)
    if unknown:
        raise SuiteError(f"{where}: unknown field(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(EXPERIMENT_KEYS))}")
    if "seeds" in raw:
        try:
            seeds = parse_seeds(raw["seeds"], f"{where}.seeds")
        except ValueError as exc:
            raise SuiteError(str(exc)) from None
    if seeds is None:
        raise SuiteError(f"{where}: no seeds (give `seeds` in the suite or here)")
    protocol = raw.get("protocol", "official")
    if not isinstance(protocol, str):
        raise SuiteError(f"{where}.protocol: expected text, got {protocol!r}")
    sweep = _per_algorithm(raw.get("sweep", {}), f"{where}.sweep")
    for algorithm, grid in sweep.items():
        for name, values in grid.items():
            if not isinstance(values, list) or not values:
                raise SuiteError(f"{where}.sweep.{algorithm}.{name}: expected a "
                                 f"non-empty list of values, got {values!r}")
    experiment = Experiment(
        datasets=_names(raw["datasets"], f"{where}.datasets") if "datasets" in raw else None,
        protocol=protocol,
        algorithms=(_names(raw["algorithms"], f"{where}.algorithms")
                    if "algorithms" in raw else None),
        seeds=seeds,
        params=_per_algorithm(raw.get("params", {}), f"{where}.params"),
        sweep=sweep,
    )
    for field in ("params", "sweep"):
        stray = sorted(set(getattr(experiment, field)) - set(experiment.algorithms or ()))
        if experiment.algorithms is not None and stray:
            raise SuiteError(f"{where}.{field}: names {', '.join(stray)}, not among "
                             "this experiment's algorithms")
    for algorithm in experiment.sweep:
        both = sorted(set(experiment.sweep[algorithm]) & set(experiment.params.get(
            algorithm, {})))
        if both:
            raise SuiteError(f"{where}: {algorithm} parameter(s) {', '.join(both)} are "
                             "both fixed (params) and swept (sweep)")
    return experiment


def parse_suite(text: str, source: str, name: str | None = None) -> Suite:
    """A suite from TOML text; ``source`` (the file) names it in every error."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(raw) - SUITE_KEYS)
    if unknown:
        raise SuiteError(f"{source}: unknown field(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(SUITE_KEYS))}")
    seeds = None
    if "seeds" in raw:
        try:
            seeds = parse_seeds(raw["seeds"], f"{source}: seeds")
        except ValueError as exc:
            raise SuiteError(str(exc)) from None
    timeout = raw.get("timeout")
    if timeout is not None and (isinstance(timeout, bool)
                                or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise SuiteError(f"{source}: timeout must be a positive number of seconds, "
                         f"got {timeout!r}")
    experiments = raw.get("experiment")
    if not isinstance(experiments, list) or not experiments:
        raise SuiteError(f"{source}: no [[experiment]] table")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SuiteError(f"{source}: description must be text")
    focus, rope = raw.get("focus"), raw.get("rope")
    if focus is not None and (not isinstance(focus, str) or not focus):
        raise SuiteError(f"{source}: focus must be an algorithm's name, got {focus!r}")
    if rope is not None and (isinstance(rope, bool) or not isinstance(rope, (int, float))
                             or not 0 <= rope < 100):
        raise SuiteError(f"{source}: rope must be accuracy points in [0, 100), "
                         f"got {rope!r}")
    parsed = Suite(
        name=name or Path(source).stem,
        source=source,
        description=description,
        experiments=tuple(_experiment(item, f"{source}: experiment[{index}]", seeds)
                          for index, item in enumerate(experiments, 1)),
        timeout=float(timeout) if timeout is not None else None,
        timings=_per_kind(raw.get("timings", {}), f"{source}: timings", "seconds"),
        peak_memory_mb=_per_kind(raw.get("peak_memory_mb", {}),
                                 f"{source}: peak_memory_mb", "MiB"),
        focus=focus, rope=float(rope) if rope is not None else None,
    )
    named = parsed.algorithms()
    if focus is not None and named:
        found = canonical(focus, named)
        if found is None:
            raise SuiteError(f"{source}: focus {focus!r} is not one of the suite's "
                             f"algorithms ({', '.join(sorted(named))})")
        parsed = dataclasses.replace(parsed, focus=found)
    return parsed


def _per_kind(raw: Any, where: str, unit: str) -> dict[tuple, float]:
    """``"ALGORITHM[VARIANT] on DATASET (PROTOCOL)" = number`` entries, as
    ``benchbase.plan.schedule.kind_label`` writes them."""
    from benchbase.plan.schedule import parse_kind_label

    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: expected a table of \"ALGORITHM on DATASET "
                         f"(PROTOCOL)\" = {unit}, got {raw!r}")
    numbers = {}
    for label, number in raw.items():
        kind = parse_kind_label(label)
        if kind is None:
            raise SuiteError(f"{where}: {label!r} is not \"ALGORITHM on DATASET "
                             "(PROTOCOL)\" (or ALGORITHM[VARIANT] on ...)")
        if isinstance(number, bool) or not isinstance(number, (int, float)) or \
                not number > 0:
            raise SuiteError(f"{where}: {label!r} must be a positive number of {unit}, "
                             f"got {number!r}")
        numbers[kind] = float(number)
    return numbers


def load_suite(path: str | os.PathLike[str] | Any, name: str | None = None) -> Suite:
    """A suite file: a user's path, or one a plugin registered (``SuiteSpec``:
    a path or an ``importlib.resources`` file)."""
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read the suite ({exc})") from None
    return parse_suite(text, str(path), name)


def is_suite_path(text: str) -> bool:
    """Whether a ``benchbase run`` argument names a file rather than a suite name."""
    return text.endswith(".toml") or "/" in text or "\\" in text


def find_suite(name: str, registered: Mapping[str, Any]) -> Suite:
    """A registered suite by name (case-insensitive), or a TOML file by path.

    ``registered`` maps each registered name to its file.
    """
    if is_suite_path(name):
        return load_suite(name)
    key = canonical(name, registered)
    if key is not None:
        return load_suite(registered[key], key)
    raise SuiteError(f"unknown suite {name!r}{did_you_mean(name, registered)}; known: "
                     f"{', '.join(sorted(registered)) or 'none'} (or a path to a .toml file)")


@dataclasses.dataclass(frozen=True)
class Overrides:
    """What the command line changes in every experiment of a suite (None: keep)."""

    algorithms: tuple[str, ...] | None = None
    datasets: tuple[str, ...] | None = None
    protocol: str | None = None
    seeds: tuple[int, ...] | None = None
    #: Fixed parameters per algorithm, added to (and winning over) the suite's.
    params: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)


def variant_label(swept: Mapping[str, Any]) -> str:
    """``keep_prob=0.5, mask=batch``: a sweep's values, as reports name the variant."""
    return ", ".join(f"{name}={value}" for name, value in sorted(swept.items()))


def plan_suite(suite: Suite, available: Sequence[str], embedded: Sequence[str],
               overrides: Overrides | None = None) -> list[Trial]:
    """Every trial of the suite: experiment × dataset × seed × algorithm × variant.

    ``available`` is what "every algorithm" means (those installed),
    ``embedded`` what "the default datasets" means. Repeated trials (two
    experiments overlapping after an override) appear once.
    """
    overrides = overrides or Overrides()
    trials: dict[tuple, Trial] = {}
    for index, experiment in enumerate(suite.experiments, 1):
        text = overrides.protocol or experiment.protocol
        try:
            protocol = Protocol.parse(text)
        except ValueError as exc:
            where = "--protocol" if overrides.protocol else (
                f"{suite.source}: experiment[{index}].protocol")
            raise SuiteError(f"{where}: {exc}") from None
        algorithms = overrides.algorithms or experiment.algorithms or tuple(available)
        datasets = overrides.datasets or experiment.datasets or tuple(embedded)
        for dataset in datasets:
            for seed in overrides.seeds or experiment.seeds:
                for algorithm in algorithms:
                    for fixed in experiment.variants(algorithm):
                        swept = {name: fixed[name]
                                 for name in experiment.sweep.get(algorithm, {})}
                        fixed = {**fixed, **overrides.params.get(algorithm, {})}
                        trial = Trial(algorithm, dataset, protocol, seed, fixed,
                                      variant_label(swept))
                        identity = (algorithm, dataset, str(protocol), seed,
                                    repr(sorted(fixed.items())))
                        trials.setdefault(identity, trial)
    return list(trials.values())
