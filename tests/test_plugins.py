"""The plugin system: discovery, order, isolation of broken plugins, switches."""

import numpy as np
import pluggy
import pytest
from data_builders import idx_folder
from processes import install_fake_plugin
from sklearn.dummy import DummyClassifier

import benchbase
from benchbase.plugins import (
    ENV_BLOCK,
    ENV_DISABLE_AUTOLOAD,
    GROUP,
    PluginError,
    PluginInfo,
    Registry,
    UnknownNameError,
    _collect,
    load_catalog,
)

BUILTIN_ALGORITHMS = {"ELM", "RELM", "KELM"}


GOOD = """
    import benchbase
    from sklearn.dummy import DummyClassifier

    @benchbase.hookimpl
    def benchbase_register_algorithms():
        return [benchbase.AlgorithmSpec(name="{name}", family="test",
                                        factory=DummyClassifier, randomized=False)]
"""


def test_builtins_register_through_entry_points():
    catalog = load_catalog()
    assert BUILTIN_ALGORITHMS <= set(catalog.algorithms)
    assert "digits" in catalog.datasets
    for name in BUILTIN_ALGORITHMS:
        origin = catalog.algorithms.plugin_of(name)
        assert origin.distribution == benchbase.DISTRIBUTION
        assert origin.version == benchbase.__version__


def test_builtins_load_before_third_party(site):
    install_fake_plugin(site, "aaa-early", "aaa_early", GOOD.format(name="Early"))
    names = [info.distribution for info in load_catalog().plugins]
    first_third_party = names.index("aaa-early")
    assert all(n == benchbase.DISTRIBUTION for n in names[:first_third_party])


def test_third_party_plugin_is_found_and_attributed(site):
    install_fake_plugin(site, "fake-dist", "fake_mod", GOOD.format(name="Fake"),
                        version="2.5")
    catalog = load_catalog()
    assert catalog.algorithms.plugin_of("Fake") == PluginInfo(
        "fake_mod", "fake_mod", "fake-dist", "2.5")
    assert catalog.problems == []


def test_plugin_that_fails_to_import_is_reported_by_name(site):
    install_fake_plugin(site, "broken-dist", "broken_mod", "raise ImportError('boom')\n")
    install_fake_plugin(site, "fine-dist", "fine_mod", GOOD.format(name="Fine"))
    catalog = load_catalog()
    assert "Fine" in catalog.algorithms and BUILTIN_ALGORITHMS <= set(catalog.algorithms)
    [problem] = catalog.problems
    assert "broken-dist 1.0" in str(problem) and "boom" in str(problem)


def test_hook_that_raises_is_reported_and_others_survive(site):
    install_fake_plugin(site, "raising-dist", "raising_mod", """
        import benchbase

        @benchbase.hookimpl
        def benchbase_register_algorithms():
            raise RuntimeError("cannot register today")
    """)
    catalog = load_catalog()
    assert BUILTIN_ALGORITHMS <= set(catalog.algorithms)
    [problem] = catalog.problems
    assert "raising-dist" in str(problem)
    assert "RuntimeError: cannot register today" in str(problem)


def test_hook_returning_wrong_types_is_reported(site):
    install_fake_plugin(site, "odd-dist", "odd_mod", """
        import benchbase

        @benchbase.hookimpl
        def benchbase_register_algorithms():
            return ["not a spec"]

        @benchbase.hookimpl
        def benchbase_register_datasets():
            return None
    """)
    messages = [str(p) for p in load_catalog().problems]
    assert any("returned str, not AlgorithmSpec" in m for m in messages)
    assert any("must return a list of DatasetSpec, got NoneType" in m for m in messages)


def test_misspelled_hook_is_rejected_loudly(site):
    install_fake_plugin(site, "typo-dist", "typo_mod", """
        import benchbase

        @benchbase.hookimpl
        def benchbase_register_algorithm():  # missing the final s
            return []
    """)
    catalog = load_catalog()
    [problem] = catalog.problems
    assert "typo-dist" in str(problem) and "benchbase_register_algorithm" in str(problem)
    assert "typo_mod" not in [info.name for info in catalog.plugins]


def test_duplicate_name_names_both_plugins(site):
    install_fake_plugin(site, "copycat-dist", "copycat_mod", GOOD.format(name="KELM"))
    catalog = load_catalog()
    [problem] = catalog.problems
    message = str(problem)
    assert "copycat-dist" in message and benchbase.DISTRIBUTION in message
    # The first registration (the built-in) is kept.
    assert catalog.algorithms.plugin_of("KELM").distribution == benchbase.DISTRIBUTION


def test_disable_autoload_keeps_only_builtins(site, monkeypatch):
    install_fake_plugin(site, "fake-dist", "fake_mod", GOOD.format(name="Fake"))
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "1")
    catalog = load_catalog()
    assert "Fake" not in catalog.algorithms
    assert BUILTIN_ALGORITHMS <= set(catalog.algorithms)


def test_block_plugins_by_entry_point_or_distribution(site, monkeypatch):
    install_fake_plugin(site, "fake-dist", "fake_mod", GOOD.format(name="Fake"))
    monkeypatch.setenv(ENV_BLOCK, "fake-dist, kelm")
    catalog = load_catalog()
    assert "Fake" not in catalog.algorithms and "KELM" not in catalog.algorithms
    assert {"ELM", "RELM"} <= set(catalog.algorithms)


def test_registry_unknown_name_lists_known():
    registry = Registry("algorithm")
    with pytest.raises(UnknownNameError, match="unknown algorithm 'X'; known: none"):
        registry.get("X")


def test_unavailable_algorithm_explains_what_to_install(site):
    install_fake_plugin(site, "needy-dist", "needy_mod", """
        import benchbase
        from sklearn.dummy import DummyClassifier

        @benchbase.hookimpl
        def benchbase_register_algorithms():
            return [benchbase.AlgorithmSpec(
                name="Needy", family="test", factory=DummyClassifier,
                requires=("no_such_module_xyz",), install_hint="pip install xyz")]
    """)
    catalog = load_catalog()
    assert "Needy" in catalog.algorithms
    assert "Needy" not in catalog.available_algorithms()
    with pytest.raises(PluginError, match="missing no_such_module_xyz; pip install xyz"):
        catalog.algorithm("Needy")


@pytest.mark.parametrize("name", ["", "1abc", "has space", None])
def test_spec_names_are_validated(name):
    with pytest.raises(ValueError, match="name"):
        benchbase.AlgorithmSpec(name=name, family="x", factory=object)


class _SpecsWithAnArgument:
    """The algorithm hook as it would look after gaining an argument."""

    @pluggy.HookspecMarker("benchbase")
    def benchbase_register_algorithms(self, n_features):
        """Return the algorithms this plugin adds for data with ``n_features``."""


class _OldPlugin:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(name="Old", family="test", factory=DummyClassifier)]


class _NewPlugin:
    def __init__(self):
        self.seen = []

    @benchbase.hookimpl
    def benchbase_register_algorithms(self, n_features):
        self.seen.append(n_features)
        return [benchbase.AlgorithmSpec(name="New", family="test", factory=DummyClassifier)]


def test_collect_passes_each_implementation_the_arguments_it_names():
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(_SpecsWithAnArgument)
    infos = {}
    new = _NewPlugin()
    for name, plugin in (("old", _OldPlugin()), ("new", new)):
        pm.register(plugin, name=name)
        infos[name] = PluginInfo(name, "tests", f"{name}-dist", "1")
    registry, problems = Registry("algorithm"), []
    _collect(pm, infos, "benchbase_register_algorithms", benchbase.AlgorithmSpec, registry,
             problems, n_features=64)
    assert problems == []
    assert set(registry) == {"Old", "New"}  # the older plugin still works
    assert new.seen == [64]
    with pytest.raises(TypeError, match="takes \\['n_features'\\], got \\[\\]"):
        _collect(pm, infos, "benchbase_register_algorithms", benchbase.AlgorithmSpec,
                 registry, problems)


# --- one test per hook (tests/test_plugin_docs.py requires them) ----------------


def _catalog_with(plugin, name="probe"):
    info = PluginInfo(name, "tests", f"{name}-dist", "2.0")
    return load_catalog(extra=[(info, plugin)]), info


def test_hook_benchbase_register_algorithms():
    class Plugin:
        @benchbase.hookimpl
        def benchbase_register_algorithms(self):
            return [benchbase.AlgorithmSpec(name="Constant", family="test",
                                            factory=DummyClassifier, randomized=False)]

    catalog, info = _catalog_with(Plugin())
    assert catalog.algorithm("Constant").factory is DummyClassifier
    assert catalog.algorithms.plugin_of("Constant") == info
    assert "Constant" in catalog.available_algorithms()
    # The built-ins come through the same hook, from their entry points.
    assert catalog.algorithms.plugin_of("KELM").distribution == benchbase.DISTRIBUTION


def _toy_dataset(name):
    X = np.linspace(0, 1, 40, dtype=np.float32).reshape(10, 4)
    return benchbase.Dataset(name, X[:6], np.arange(6) % 2, X[6:], np.arange(4) % 2, (2, 2))


def test_hook_benchbase_register_datasets():
    class Plugin:
        @benchbase.hookimpl
        def benchbase_register_datasets(self):
            return [benchbase.DatasetSpec(name="toy", load=lambda context: _toy_dataset("toy"),
                                          embedded=True)]

    catalog, info = _catalog_with(Plugin())
    assert catalog.datasets.plugin_of("toy") == info
    assert catalog.dataset("toy").load(benchbase.DataContext()).n_features == 4
    assert catalog.datasets.plugin_of("digits").distribution == benchbase.DISTRIBUTION


def test_hook_benchbase_resolve_dataset(tmp_path):
    asked = []

    class Plugin:
        @benchbase.hookimpl
        def benchbase_resolve_dataset(self, name):
            asked.append(name)
            if not name.startswith("toy-"):
                return None  # not ours: the next plugin is asked
            return benchbase.DatasetSpec(name=name, load=lambda context: _toy_dataset(name))

    catalog, _ = _catalog_with(Plugin())
    assert catalog.dataset("toy-7").load(benchbase.DataContext()).name == "toy-7"
    # Names another plugin resolves still reach it (the built-in idx:PATH) ...
    folder = idx_folder(tmp_path / "images")
    assert catalog.dataset(f"idx:{folder}").name.startswith("idx-images-")
    # ... registered names never reach a resolver, and nobody's names fail clearly.
    assert catalog.dataset("digits").name == "digits"
    with pytest.raises(UnknownNameError, match="unknown dataset 'nobodys'"):
        catalog.dataset("nobodys")
    assert asked == ["toy-7", f"idx:{folder}", "nobodys"]


def test_a_resolver_returning_something_else_is_named():
    class Plugin:
        @benchbase.hookimpl
        def benchbase_resolve_dataset(self, name):
            return "not a spec"

    catalog, _ = _catalog_with(Plugin())
    with pytest.raises(PluginError, match=r"benchbase_resolve_dataset\('x'\) returned str"):
        catalog.dataset("x")
