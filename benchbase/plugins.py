"""Find plugins through the ``benchbase`` entry-point group and gather their specs.

Load order is fixed: entry points of this distribution (the built-ins) first,
then third-party ones sorted by distribution name and entry-point name. A
plugin that fails to import, or whose hook raises or returns garbage, becomes a
``PluginProblem`` naming its package and version; the others load normally.

Environment switches (read when the catalog is built):

* ``BENCHBASE_DISABLE_PLUGIN_AUTOLOAD=1``: load only the built-in plugins.
* ``BENCHBASE_BLOCK_PLUGINS=name,name``: skip plugins by entry-point name or
  distribution name.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import os
import traceback
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pluggy

from benchbase import DISTRIBUTION, hookspecs
from benchbase.names import canonical, did_you_mean
from benchbase.specs import (
    AlgorithmSpec,
    DatasetForm,
    DatasetSpec,
    ExecutorSpec,
    ReferenceSpec,
    ReportSection,
    SuiteSpec,
)

if TYPE_CHECKING:
    from benchbase.plan.suites import Suite

GROUP = "benchbase"
ENV_DISABLE_AUTOLOAD = "BENCHBASE_DISABLE_PLUGIN_AUTOLOAD"
ENV_BLOCK = "BENCHBASE_BLOCK_PLUGINS"


class PluginError(Exception):
    """A plugin could not be used; the message names it."""


class UnknownNameError(KeyError):
    """A name asked for on the command line is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """Where a plugin comes from: entry point, module and distribution."""

    name: str
    module: str
    distribution: str
    version: str

    @property
    def builtin(self) -> bool:
        return self.distribution == DISTRIBUTION

    def __str__(self) -> str:
        return f"plugin {self.name!r} ({self.distribution} {self.version})"


@dataclasses.dataclass(frozen=True)
class PluginProblem:
    plugin: PluginInfo
    message: str

    def __str__(self) -> str:
        return f"{self.plugin}: {self.message}"


SpecT = TypeVar("SpecT", AlgorithmSpec, DatasetSpec, ReportSection, ReferenceSpec,
                ExecutorSpec, SuiteSpec, DatasetForm)


class Registry(Generic[SpecT]):
    """Name -> spec, remembering which plugin registered each name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, tuple[SpecT, PluginInfo]] = {}

    def register(self, spec: SpecT, plugin: PluginInfo) -> None:
        taken = canonical(spec.name, self._entries)
        if taken is not None:  # names are matched without regard to case
            _, first = self._entries[taken]
            raise PluginError(
                f"{self.kind} {spec.name!r} from {plugin} duplicates {taken!r} "
                f"from {first}; the second was rejected"
            )
        self._entries[spec.name] = (spec, plugin)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical(name, self._entries) is not None

    def canonical(self, name: str) -> str:
        """The registered spelling of ``name`` (matched ignoring case), or
        UnknownNameError with the closest known name."""
        found = canonical(name, self._entries)
        if found is None:
            known = ", ".join(self._entries) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}"
                                   f"{did_you_mean(name, self._entries)}; known: {known}")
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> SpecT:
        return self._entries[self.canonical(name)][0]

    def plugin_of(self, name: str) -> PluginInfo:
        return self._entries[self.canonical(name)][1]

    def specs(self) -> list[SpecT]:
        return [spec for spec, _ in self._entries.values()]


def missing_requirements(spec: AlgorithmSpec | ExecutorSpec) -> list[str]:
    """Import names in ``spec.requires`` that cannot be found."""
    return [mod for mod in spec.requires if importlib.util.find_spec(mod) is None]


def missing_accelerators(spec: AlgorithmSpec) -> dict[str, str]:
    """The accelerators of ``spec`` that cannot be found, with what they speed up."""
    return {name: what for name, what in spec.accelerators.items()
            if importlib.util.find_spec(name) is None}


@dataclasses.dataclass
class Catalog:
    """Everything the loaded plugins provide, and what went wrong loading them."""

    algorithms: Registry[AlgorithmSpec]
    datasets: Registry[DatasetSpec]
    plugins: list[PluginInfo]
    problems: list[PluginProblem]
    manager: pluggy.PluginManager
    sections: Registry[ReportSection] = dataclasses.field(
        default_factory=lambda: Registry("report section"))
    references: Registry[ReferenceSpec] = dataclasses.field(
        default_factory=lambda: Registry("reference"))
    executors: Registry[ExecutorSpec] = dataclasses.field(
        default_factory=lambda: Registry("executor"))
    suites: Registry[SuiteSpec] = dataclasses.field(
        default_factory=lambda: Registry("suite"))
    dataset_forms: Registry[DatasetForm] = dataclasses.field(
        default_factory=lambda: Registry("dataset form"))

    def available_algorithms(self) -> list[str]:
        return [
            name
            for name in self.algorithms
            if not missing_requirements(self.algorithms.get(name))
        ]

    def algorithm(self, name: str) -> AlgorithmSpec:
        """The spec, or a clear error if unknown or its requirements are missing."""
        return _available(self.algorithms.get(name), "algorithm")

    def executor(self, name: str) -> ExecutorSpec:
        """The spec, or a clear error if unknown or its requirements are missing."""
        return _available(self.executors.get(name), "executor")

    def suite(self, name: str) -> Suite:
        """A registered suite (by name, any case) or a suite file (by path)."""
        from benchbase.plan.suites import find_suite

        return find_suite(name, {key: self.suites.get(key).path for key in self.suites})

    def dataset(self, name: str) -> DatasetSpec:
        """A registered dataset, or one a plugin makes from the name ("idx:PATH")."""
        if name in self.datasets:
            return self.datasets.get(name)
        spec = self.manager.hook.benchbase_resolve_dataset(name=name)
        if spec is None:
            return self.datasets.get(name)  # raises UnknownNameError
        if not isinstance(spec, DatasetSpec):
            raise PluginError(
                f"benchbase_resolve_dataset({name!r}) returned "
                f"{type(spec).__name__}, not DatasetSpec"
            )
        return spec


def _available(spec: SpecT, kind: str) -> SpecT:
    missing = missing_requirements(spec)
    if missing:
        hint = f"; {spec.install_hint}" if spec.install_hint else ""
        raise PluginError(
            f"{kind} {spec.name!r} is unavailable: missing {', '.join(missing)}{hint}"
        )
    return spec


def _blocked_names() -> set[str]:
    raw = os.environ.get(ENV_BLOCK, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def plugin_entry_points() -> list[importlib.metadata.EntryPoint]:
    """The installed plugins' entry points of group ``benchbase``, ours first."""
    eps = importlib.metadata.entry_points(group=GROUP)

    def order(ep: importlib.metadata.EntryPoint) -> tuple[bool, str, str]:
        dist = ep.dist.name if ep.dist else ""
        return (dist != DISTRIBUTION, dist.lower(), ep.name)

    # The same entry point can be seen twice (e.g. an editable install next to
    # a copy on sys.path); keep the first of each name.
    unique: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in sorted(eps, key=order):
        unique.setdefault(ep.name, ep)
    return list(unique.values())


def _info(ep: importlib.metadata.EntryPoint) -> PluginInfo:
    dist = ep.dist
    return PluginInfo(
        name=ep.name,
        module=ep.value,
        distribution=dist.name if dist else "unknown",
        version=dist.version if dist else "unknown",
    )


def make_plugin_manager(
    extra: Iterable[tuple[PluginInfo, Any]] = (),
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo], list[PluginProblem]]:
    """Create the manager: add hook specs, load entry points, check them.

    ``extra`` registers already imported plugin objects (used by tests and by
    programs that embed benchbase) after the entry points.
    """
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    problems: list[PluginProblem] = []
    builtin_only = os.environ.get(ENV_DISABLE_AUTOLOAD, "").strip() not in ("", "0")
    blocked = _blocked_names()

    def add(info: PluginInfo, plugin: Any) -> None:
        try:
            pm.register(plugin, name=info.name)
            pm.check_pending()
        except Exception as exc:  # a misspelled hook or a name clash
            if pm.is_registered(plugin):
                pm.unregister(plugin)
            problems.append(PluginProblem(info, f"rejected: {exc}"))
            return
        infos[info.name] = info

    for ep in plugin_entry_points():
        info = _info(ep)
        if info.name in blocked or info.distribution in blocked:
            continue
        if builtin_only and not info.builtin:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            problems.append(
                PluginProblem(info, f"failed to import {ep.value}: {exc!r}")
            )
            continue
        add(info, plugin)
    for info, plugin in extra:
        add(info, plugin)
    return pm, infos, problems


def _collect(
    pm: pluggy.PluginManager,
    infos: dict[str, PluginInfo],
    hook_name: str,
    expected: type,
    registry: Registry,
    problems: list[PluginProblem],
    **hook_kwargs: Any,
) -> None:
    """Call one hook plugin by plugin, so one broken plugin hurts only itself.

    ``hook_kwargs`` are the arguments the hook spec declares; each
    implementation receives the ones it names (as pluggy itself calls hooks),
    so a hook that gains an argument keeps working with older plugins.
    """
    hook = getattr(pm.hook, hook_name)
    declared = set(hook.spec.argnames) | set(hook.spec.kwargnames)
    if set(hook_kwargs) != declared:
        raise TypeError(f"{hook_name} takes {sorted(declared)}, got {sorted(hook_kwargs)}")
    for impl in hook.get_hookimpls():  # registration order
        info = infos[impl.plugin_name]
        try:
            specs = impl.function(**{name: hook_kwargs[name] for name in impl.argnames})
        except Exception as exc:
            tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            problems.append(PluginProblem(info, f"{hook_name}() raised {tail}"))
            continue
        if not isinstance(specs, (list, tuple)):
            problems.append(
                PluginProblem(info, f"{hook_name}() must return a list of "
                              f"{expected.__name__}, got {type(specs).__name__}")
            )
            continue
        for spec in specs:
            if not isinstance(spec, expected):
                problems.append(
                    PluginProblem(info, f"{hook_name}() returned "
                                  f"{type(spec).__name__}, not {expected.__name__}")
                )
                continue
            try:
                registry.register(spec, info)
            except PluginError as exc:
                problems.append(PluginProblem(info, str(exc)))


def load_catalog(extra: Iterable[tuple[PluginInfo, Any]] = ()) -> Catalog:
    """Load every plugin and gather its algorithms, datasets, executors, suites,
    report sections and references."""
    pm, infos, problems = make_plugin_manager(extra)
    catalog = Catalog(Registry("algorithm"), Registry("dataset"), list(infos.values()),
                      problems, pm)
    for hook_name, expected, registry in (
        ("benchbase_register_algorithms", AlgorithmSpec, catalog.algorithms),
        ("benchbase_register_datasets", DatasetSpec, catalog.datasets),
        ("benchbase_report_sections", ReportSection, catalog.sections),
        ("benchbase_report_references", ReferenceSpec, catalog.references),
        ("benchbase_register_executors", ExecutorSpec, catalog.executors),
        ("benchbase_register_suites", SuiteSpec, catalog.suites),
        ("benchbase_register_dataset_forms", DatasetForm, catalog.dataset_forms),
    ):
        _collect(pm, infos, hook_name, expected, registry, problems)
    return catalog
