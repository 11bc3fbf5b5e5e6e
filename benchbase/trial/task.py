"""What a trial is: its definition, its key, and the small task an executor runs.

A ``Trial`` is algorithm × dataset × protocol × seed (× fixed parameters), as a
suite plans it. Its key (``trial_key``) is a stable hash of everything that
makes its result what it is, built from structured fields only: a changed
plugin version, search space or selection rule gives a new key, so a later
run measures it anew instead of taking an older row for its own. A
``TrialTask`` is a planned trial as an executor sees it: small, picklable,
and able to draw its own data where it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from benchbase.results.record import TrialResult, dumps
from benchbase.specs import AlgorithmSpec, Dataset
from benchbase.trial.selection import SelectionRule
from benchbase.trial.splits import Protocol, take_split


@dataclasses.dataclass(frozen=True)
class Trial:
    algorithm: str
    dataset: str
    protocol: Protocol
    seed: int
    fixed_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: Names one of a suite's swept settings ("keep_prob=0.5, mask=batch"); the
    #: key already tells variants apart (their fixed parameters differ).
    variant: str = ""

    def label(self) -> str:
        name = f"{self.algorithm}[{self.variant}]" if self.variant else self.algorithm
        return f"{name} on {self.dataset} ({self.protocol}, seed {self.seed})"


def trial_key(trial: Trial, grid: Mapping[str, list], plugin: str,
              rule: SelectionRule) -> str:
    """A stable hash of the trial's identity (20 hex digits).

    The full grid adds nothing to the identity, so full-grid keys stay what
    they were before rules had versions; any other rule adds its identity
    (name, version, settings).
    """
    identity: dict[str, Any] = {
        "algorithm": trial.algorithm,
        "dataset": trial.dataset,
        "protocol": str(trial.protocol),
        "seed": trial.seed,
        "fixed_params": dumps(trial.fixed_params),
        "search_space": json.dumps(grid, sort_keys=True, default=repr),
        "plugin": plugin,
    }
    if rule.name != "grid":
        identity["selection"] = rule.identity()
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


@dataclasses.dataclass(frozen=True)
class TrialTask:
    """One trial as an executor sees it: small and picklable.

    The dataset is not in it: the executor ships every dataset once
    (``Workload.datasets``) and hands it to ``call`` where the trial runs.
    """

    key: str
    label: str
    spec: AlgorithmSpec
    dataset: str
    #: (n_train, n_test) drawn at random per seed; None: the official split.
    split_sizes: tuple[int, int] | None
    subset_hash: str
    seed: int
    fixed_params: Mapping[str, Any]
    grid: Mapping[str, list]
    rule: SelectionRule

    def call(self, data: Dataset, threads: int
             ) -> tuple[Callable[..., TrialResult], tuple]:
        """The function and arguments that run the trial on ``data``.

        The trial's split is drawn here, from its seed; a subset other than
        the planned one (another NumPy on a worker?) is refused, since it
        would make the result incomparable.
        """
        from benchbase.trial.evaluate import evaluate  # scikit-learn: not at CLI start

        split = take_split(data, self.split_sizes, self.seed)
        if split.indices_hash != self.subset_hash:
            raise RuntimeError(
                f"{self.label}: this machine drew a different subset of {self.dataset!r} "
                f"({split.indices_hash}, planned {self.subset_hash}); is its NumPy "
                "another version than the orchestrator's?")
        return evaluate, (self.spec, split, self.seed, self.fixed_params, self.grid,
                          threads, self.rule)
