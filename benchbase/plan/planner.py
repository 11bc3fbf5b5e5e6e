"""Planning: everything that identifies a trial, decided before any trial runs.

For each trial of a suite: its split's rows and their hash, its search space,
its selection rule, its key, and the row fields known in advance. Datasets are
loaded here, once each, for the executor to ship. A fixed parameter the
algorithm does not have is refused here (``ParameterError``), before any work.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sklearn.model_selection import ParameterGrid

import benchbase
from benchbase.plugins import Catalog
from benchbase.specs import AlgorithmSpec, DataContext, Dataset
from benchbase.trial.estimator import check_params, search_grid
from benchbase.trial.selection import choose_rule
from benchbase.trial.splits import split_indices, subset_sizes, validation_size
from benchbase.trial.task import Trial, TrialTask, trial_key


@dataclasses.dataclass(frozen=True)
class PlannedTrial:
    trial: Trial
    task: TrialTask
    #: The row's fields known before the trial runs.
    fields: Mapping[str, Any]

    @property
    def key(self) -> str:
        return self.task.key


@dataclasses.dataclass(frozen=True)
class Plan:
    trials: list[PlannedTrial]
    datasets: dict[str, Dataset]
    #: Modules the trials import, for executors to import ahead of the trials.
    modules: list[str]


def plan(catalog: Catalog, trials: list[Trial],
         data_context: DataContext | None = None, selection: str = "auto") -> Plan:
    """Identify every trial (key, split, search space, selection rule) and load
    its data. ``selection``: "auto", "grid" or "halving"."""
    specs = {t.algorithm: catalog.algorithm(t.algorithm) for t in trials}
    checked = set()
    for trial in trials:  # each algorithm's fixed parameter names, once
        names = (trial.algorithm, tuple(sorted(trial.fixed_params)))
        if names not in checked:
            check_params(specs[trial.algorithm], trial.fixed_params)
            checked.add(names)
    datasets: dict[str, Dataset] = {}
    dataset_specs = {}
    for name in dict.fromkeys(t.dataset for t in trials):  # load all before running
        dataset_specs[name] = catalog.dataset(name)
        datasets[name] = dataset_specs[name].open(data_context or DataContext())
    splits: dict[tuple, tuple[int, int, str]] = {}  # the algorithms of a seed share one
    planned = []
    for trial in trials:
        spec, data = specs[trial.algorithm], datasets[trial.dataset]
        sizes = subset_sizes(trial.protocol, dataset_specs[trial.dataset])
        if (trial.dataset, sizes, trial.seed) not in splits:
            try:
                train_idx, test_idx, subset_hash = split_indices(data, sizes, trial.seed)
            except ValueError as exc:
                raise ValueError(f"protocol {trial.protocol}: {exc}") from None
            splits[trial.dataset, sizes, trial.seed] = (len(train_idx), len(test_idx),
                                                         subset_hash)
        n_train, n_test, subset_hash = splits[trial.dataset, sizes, trial.seed]
        plugin = catalog.algorithms.plugin_of(spec.name)
        plugin_label = f"{plugin.distribution} {plugin.version}"
        grid = search_grid(spec, n_train, data.n_features, trial.fixed_params)
        rule = choose_rule(selection, list(ParameterGrid(dict(grid))),
                           n_train - validation_size(n_train), spec.halving,
                           spec.shared_fit_params)
        key = trial_key(trial, grid, plugin_label, rule)
        task = TrialTask(key, trial.label(), spec, trial.dataset, sizes, subset_hash,
                         trial.seed, trial.fixed_params, grid, rule)
        fields = {
            "trial_key": key,
            "algorithm": spec.name,
            "variant": trial.variant,
            "family": spec.family,
            "dataset": trial.dataset,
            "protocol": str(trial.protocol),
            "seed": trial.seed,
            "subset_hash": subset_hash,
            "n_train": n_train,
            "n_test": n_test,
            "search_space": json.dumps(grid, sort_keys=True, default=repr),
            "plugin": plugin_label,
            "benchbase_version": benchbase.__version__,
        }
        planned.append(PlannedTrial(trial, task, fields))
    return Plan(planned, datasets, trial_modules(list(specs.values())))


def trial_modules(specs: list[AlgorithmSpec]) -> list[str]:
    """What the trials will import: the algorithms' modules, requirements and
    the modules they ask to preload (torch takes seconds to import, per process)."""
    modules = {spec.factory.__module__ for spec in specs}
    modules.update(name for spec in specs for name in (*spec.requires, *spec.preload))
    return sorted(modules)
