"""What plugins hand to the core: descriptions of algorithms, datasets,
executors and report contributions (sections, published reference results).

Hooks *discover* things (they return lists of these specs); behaviour lives in
the estimator classes and loader functions the specs point to. The core never
names a concrete algorithm or dataset: it only reads these fields.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.resources.abc import Traversable

#: A search space is a grid: parameter name -> list of candidate values.
SearchSpace = Mapping[str, Sequence[Any]]

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.+-]*$")


class GridScorer(Protocol):
    """Scores a whole search grid at once, sharing work between its points.

    The harness calls it with keyword arguments only:

    * ``X_fit``, ``y_fit``: the data to fit on (the training part minus the
      validation split);
    * ``X_val``, ``y_val``: the validation split to score on;
    * ``grid``: parameter name -> list of values still to search (the search
      space minus the parameters the user fixed);
    * ``fixed_params``: the spec's ``defaults`` updated with the user's fixed
      parameters;
    * ``random_state``: the trial's seed when the spec is ``randomized``, else
      None.

    It returns ``[(candidate, result), ...]`` with exactly one entry per point
    of the grid (``candidate`` names only the searched parameters, as
    ``sklearn.model_selection.ParameterGrid`` yields them), or None to decline
    (then the harness fits each point separately). ``result`` is the point's
    predicted labels for ``X_val`` (an array, checked like ``predict()``'s;
    the harness computes the accuracy, and successive halving can keep the
    leader's statistical ties, ``benchbase.trial.selection``) or, less usefully,
    its validation accuracy (a number). Its results must equal what fitting
    each point and scoring it on the validation split would give
    (``benchbase.testing.check_algorithm`` checks that).
    """

    def __call__(
        self,
        *,
        X_fit: Any,
        y_fit: Any,
        X_val: Any,
        y_val: Any,
        grid: dict[str, list[Any]],
        fixed_params: dict[str, Any],
        random_state: int | None,
    ) -> list[tuple[dict[str, Any], float]] | None: ...


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"{kind} name {name!r} is invalid: use letters, digits and '_.+-', "
            "starting with a letter"
        )


@dataclasses.dataclass(frozen=True)
class AlgorithmSpec:
    """One benchmarkable algorithm.

    Attributes:
        name: unique, case-sensitive name used on the command line ("KELM").
        family: the group it is compared within ("ELM", "AE", or your own).
        factory: callable returning an unfitted scikit-learn classifier; it is
            called with keyword arguments (``random_state`` when ``randomized``,
            plus the selected parameters).
        defaults: parameters passed to every instance unless overridden.
        search_space: grid explored on the validation split; either a mapping
            or a callable ``(n_samples, n_features) -> mapping`` for spaces that
            scale with the data (kernel widths, hidden sizes).
        randomized: whether results depend on ``random_state`` (then several
            seeds are meaningful and ``random_state`` is passed).
        reconstructs: the estimator offers ``reconstruct(X)`` (autoencoders).
        description: one line shown by ``benchbase list``.
        requires: import names needed at run time; a missing one marks the
            algorithm unavailable instead of failing the run.
        install_hint: what to install when ``requires`` is not met.
        score_grid: optional fast model selection, a ``GridScorer``: scores
            every point of the grid at once (e.g. sharing one kernel or Gram
            matrix across it), or declines. The harness checks that each grid
            point is scored exactly once. Without it, each point is fitted
            separately.
        halving: whether successive halving (``benchbase.trial.selection``) may save
            time on large training sets: False when ``score_grid`` already
            scores the whole grid for about the cost of its largest point (a
            nested hidden layer, one Gram matrix), so "auto" keeps the grid.
        shared_fit_params: parameters whose settings ``score_grid`` scores on
            one shared fit (the autoencoders' KELM head: one training for
            every C and width). Successive halving then ranks fits, not
            candidates, and ends with one fit on the whole fit split.
        accelerators: optional import names that make the algorithm faster,
            each with what it speeds up (``{"numba": "per-sample DropConnect
            kernels"}``); ``benchbase list`` says when one is missing (the
            algorithm still runs, slower).
        preload: modules its trials import that are slow to import (torch):
            an executor imports them once in the process that starts trial
            processes, not once per trial. Only a speed-up: a trial imports
            what it needs either way.
        trial_artifacts: optional ``trial_artifacts(model, X_test, y_test)``
            returning a mapping of name -> small NumPy array (numbers or text)
            to keep with the trial (``benchbase.results.artifacts``), e.g. the
            autoencoders' layer-1 filters and reconstructions. Called once
            after the test prediction, outside every timing.
    """

    name: str
    family: str
    factory: Callable[..., Any]
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    search_space: SearchSpace | Callable[[int, int], SearchSpace] = dataclasses.field(
        default_factory=dict
    )
    randomized: bool = True
    reconstructs: bool = False
    description: str = ""
    requires: Sequence[str] = ()
    install_hint: str = ""
    score_grid: GridScorer | None = None
    trial_artifacts: Callable[[Any, np.ndarray, np.ndarray], Mapping[str, Any]] | None = None
    halving: bool = True
    shared_fit_params: Sequence[str] = ()
    accelerators: Mapping[str, str] = dataclasses.field(default_factory=dict)
    preload: Sequence[str] = ()

    def __post_init__(self) -> None:
        _check_name("algorithm", self.name)
        if not callable(self.factory):
            raise TypeError(f"algorithm {self.name!r}: factory must be callable")

    def grid(self, n_samples: int, n_features: int) -> dict[str, list[Any]]:
        """The search space for data of this size, as a dict of lists."""
        space = self.search_space
        if callable(space):
            space = space(n_samples, n_features)
        grid = {str(k): list(v) for k, v in dict(space).items()}
        for key, values in grid.items():
            if not values:
                raise ValueError(
                    f"algorithm {self.name!r}: search space for {key!r} is empty"
                )
        return grid


@dataclasses.dataclass(frozen=True)
class ExecutorSpec:
    """One way to run trials (``benchbase run --executor NAME``).

    Attributes:
        name: unique name used on the command line ("process").
        factory: ``factory(**options)`` returning a ``benchbase.execution.Executor``.
            The options come from the command line: ``--jobs`` as ``jobs``,
            ``--scheduler`` as ``scheduler``, ``--dask-workers`` as ``workers``,
            and ``--executor-option NAME=VALUE`` for any other; an option the
            factory does not take is refused with its name before anything runs.
        description: one line shown by ``benchbase list``.
        requires: import names needed; a missing one makes the executor
            unavailable with ``install_hint`` as the error.
        install_hint: what to install when ``requires`` is not met.
    """

    name: str
    factory: Callable[..., Any]
    description: str = ""
    requires: Sequence[str] = ()
    install_hint: str = ""

    def __post_init__(self) -> None:
        _check_name("executor", self.name)
        if not callable(self.factory):
            raise TypeError(f"executor {self.name!r}: factory must be callable")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Loaded arrays: pixels float32 in [0, 1], labels int64, official split."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        for split, X, y in (
            ("train", self.X_train, self.y_train),
            ("test", self.X_test, self.y_test),
        ):
            if X.ndim != 2:
                raise ValueError(f"dataset {self.name!r}: X_{split} must be 2-D")
            if X.shape[0] != y.shape[0]:
                raise ValueError(
                    f"dataset {self.name!r}: X_{split} has {X.shape[0]} rows "
                    f"but y_{split} has {y.shape[0]} labels"
                )
            if X.dtype != np.float32:
                raise ValueError(f"dataset {self.name!r}: X_{split} must be float32")
            if X.size and (not np.isfinite(X).all() or X.min() < 0 or X.max() > 1):
                raise ValueError(
                    f"dataset {self.name!r}: X_{split} pixels must be finite, in [0, 1]"
                )
        if self.X_train.shape[1] != self.X_test.shape[1]:
            raise ValueError(
                f"dataset {self.name!r}: train and test have different feature counts"
            )
        if int(np.prod(self.image_shape)) != self.X_train.shape[1]:
            raise ValueError(
                f"dataset {self.name!r}: image_shape {self.image_shape} does not "
                f"match {self.X_train.shape[1]} features"
            )

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


@dataclasses.dataclass(frozen=True)
class DataContext:
    """Where a dataset loader may look for files (and whether it may download).

    Attributes:
        data_dir: an explicit folder given by the user (``--data-dir``), or None;
            laid out like ``BENCHBASE_DATA``: ``<data_dir>/<dataset>/<file>``.
        allow_download: whether missing files may be fetched from the network.
        cache_dir: where downloads, file digests and decoded arrays are kept;
            None means ``BENCHBASE_CACHE`` or the user cache folder
            (see ``benchbase.data.cache_root``).
    """

    data_dir: str | None = None
    allow_download: bool = True
    cache_dir: str | None = None


_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")


def _sha256_tuple(owner: str, value: str | Sequence[str]) -> tuple[str, ...]:
    digests = (value,) if isinstance(value, str) else tuple(value)
    for digest in digests:
        if not isinstance(digest, str) or not _SHA256_RE.match(digest):
            raise ValueError(
                f"{owner}: {digest!r} is not a sha256 (64 lowercase hex digits)"
            )
    return digests


@dataclasses.dataclass(frozen=True)
class FileSpec:
    """One data file a dataset needs, and how to check it.

    Attributes:
        name: the file name, also its name inside the dataset's folder.
        sha256: the accepted digest(s) of the file as stored; several when
            known repackagings differ (e.g. a distribution re-gzipped it).
        size: the size in bytes of the canonical file (the one ``urls`` serve),
            or None; shown by ``benchbase data info`` and in the error when a
            download fails its checksum (a short file: an interrupted download).
        urls: where to download it from, tried in order; empty: not
            downloadable (the user must put it in place).
        content_sha256: digest of the decompressed content (gz/bz2 files): a
            file whose own digest is unknown is still accepted when its
            content matches, so any recompression of the right data works.
        md5: the file's md5, only for files whose publishers give no sha256
            (md5 still detects damage, but not deliberate tampering).

    A file is accepted when any given digest matches; at least one is needed.
    """

    name: str
    sha256: str | Sequence[str] = ()
    size: int | None = None
    urls: Sequence[str] = ()
    content_sha256: str | None = None
    md5: str | None = None

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name:
            raise ValueError(f"file name {self.name!r} must be a plain file name")
        object.__setattr__(self, "sha256", _sha256_tuple(self.name, self.sha256))
        if self.content_sha256 is not None:
            _sha256_tuple(self.name, self.content_sha256)
        if self.md5 is not None and not _MD5_RE.match(self.md5):
            raise ValueError(f"{self.name}: {self.md5!r} is not an md5 (32 hex digits)")
        if not (self.sha256 or self.content_sha256 or self.md5):
            raise ValueError(f"file {self.name!r}: give at least one digest")
        object.__setattr__(self, "urls", tuple(self.urls))


@dataclasses.dataclass(frozen=True)
class FileSource:
    """One complete set of files a dataset can be loaded from.

    A dataset may offer several (the same data in different containers); the
    first whose files are all present is used, and downloads fetch the first
    source that has URLs.

    Attributes:
        label: short name of this container ("idx", "esl-text", "libsvm").
        files: the files, all needed.
        folder: the sub-folder of a data root holding them; "" means the
            dataset's name (``<root>/<dataset>/<file>``).
    """

    label: str
    files: Sequence[FileSpec]
    folder: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(self.files))
        if not self.files:
            raise ValueError(f"file source {self.label!r} lists no files")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """One dataset.

    Attributes:
        name: unique name used on the command line ("digits").
        load: ``load(context: DataContext) -> Dataset``.
        description: one line shown by ``benchbase list``.
        paper_subset: ``(n_train, n_test)`` random subsets drawn per seed for the
            ``paper`` protocol; None means the paper used the official split.
        embedded: needs no files (works offline out of the box).
        sources: the files it is loaded from (``FileSource``, in order of
            preference); ``benchbase data fetch/verify/info`` read them. Empty
            for embedded datasets and for datasets made from a user's path.
        homepage: where the data and its license are described.
        classes: the labels the dataset may hold (e.g. ``range(10)``); a load
            that yields any other label is refused (``open``). None: any.
    """

    name: str
    load: Callable[[DataContext], Dataset]
    description: str = ""
    paper_subset: tuple[int, int] | None = None
    embedded: bool = False
    sources: Sequence[FileSource] = ()
    homepage: str = ""
    classes: Sequence[int] | None = None

    def open(self, context: DataContext) -> Dataset:
        """``load(context)``, refusing labels outside ``classes``: what the
        harness and ``benchbase data`` call."""
        dataset = self.load(context)
        if self.classes is not None:
            for part, labels in (("train", dataset.y_train), ("test", dataset.y_test)):
                stray = np.setdiff1d(labels, np.asarray(self.classes))
                if stray.size:
                    shown = ", ".join(map(str, stray[:5])) + (", ..." if stray.size > 5
                                                              else "")
                    raise ValueError(
                        f"dataset {self.name!r}: {part} labels {shown} are not among its "
                        f"declared classes ({', '.join(map(str, self.classes))})")
        return dataset

    def __post_init__(self) -> None:
        _check_name("dataset", self.name)
        if not callable(self.load):
            raise TypeError(f"dataset {self.name!r}: load must be callable")
        object.__setattr__(self, "sources", tuple(self.sources))
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(int(c) for c in self.classes))
        for source in self.sources:
            if not isinstance(source, FileSource):
                raise TypeError(
                    f"dataset {self.name!r}: sources must be FileSource, got "
                    f"{type(source).__name__}"
                )


REPORT_SCOPES = ("block", "report")


@dataclasses.dataclass(frozen=True)
class ReportSection:
    """A section a plugin adds to reports (hook ``benchbase_report_sections``).

    Attributes:
        name: unique name; the report prefixes the section's figure file
            names with it (and with the dataset × protocol).
        title: the heading the report puts above the section's blocks.
        render: ``render(context)`` returning a list of report blocks
            (``benchbase.report``: Heading, Paragraph, Notice, Bullets, Table,
            Image); ``context`` is a ``benchbase.report.SectionContext`` with
            the rows, the algorithms' order and an artifact loader. Return an
            empty list to add nothing (then no heading either). A section that
            raises is replaced by a note naming it; the report goes on.
        scope: "block" (default): called once per dataset × protocol, after
            the core's sections of it; "report": once, after the sections
            that compare datasets.
    """

    name: str
    title: str
    render: Callable[[Any], Sequence[Any]]
    scope: str = "block"

    def __post_init__(self) -> None:
        _check_name("report section", self.name)
        if not callable(self.render):
            raise TypeError(f"report section {self.name!r}: render must be callable")
        if self.scope not in REPORT_SCOPES:
            raise ValueError(f"report section {self.name!r}: scope must be one of "
                             f"{', '.join(REPORT_SCOPES)}, got {self.scope!r}")


@dataclasses.dataclass(frozen=True)
class DatasetForm:
    """A kind of name a ``benchbase_resolve_dataset`` implementation turns into a
    dataset, so ``benchbase list`` can show it (hook
    ``benchbase_register_dataset_forms``).

    Attributes:
        pattern: what to type, with the user's part in capitals ("idx:PATH").
        description: one line: what the name stands for.
    """

    pattern: str
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern.strip():
            raise ValueError(f"dataset form pattern must be text, got {self.pattern!r}")

    @property
    def name(self) -> str:  # a registry keys specs by name
        return self.pattern


@dataclasses.dataclass(frozen=True)
class _TomlFileSpec:
    """A named TOML file a plugin ships: a path, or
    ``importlib.resources.files(package) / "file.toml"`` for package data."""

    kind: ClassVar[str]
    name: str
    path: str | os.PathLike[str] | Traversable

    def __post_init__(self) -> None:
        _check_name(self.kind, self.name)


@dataclasses.dataclass(frozen=True)
class SuiteSpec(_TomlFileSpec):
    """A whole comparison a plugin ships (hook ``benchbase_register_suites``),
    in the format ``benchbase.plan.suites`` and ``docs/plugins.md`` describe, run
    with ``benchbase run NAME`` (the name is matched without regard to case)."""

    kind: ClassVar[str] = "suite"


@dataclasses.dataclass(frozen=True)
class ReferenceSpec(_TomlFileSpec):
    """Published results the report shows beside ours (hook
    ``benchbase_report_references``), in the format ``docs/plugins.md``
    describes."""

    kind: ClassVar[str] = "reference"
