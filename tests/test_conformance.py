"""The plugin-author conformance helper, run on every built-in algorithm and
the README's example plugin (not on third-party plugins that happen to be
installed where the tests run: they are their authors' to check)."""

import pytest
from sklearn.dummy import DummyClassifier

import benchbase
from benchbase.plugins import PluginInfo, load_catalog, missing_requirements
from benchbase.testing import check_algorithm

#: The README's example plugin (tests/plugin_example), installed by the test.
EXAMPLE_ALGORITHM = "NearestCentroid"
#: Cheap settings, by family, so the whole check takes a second or two.
CHEAP = {
    "ELM": {"n_hidden": 50, "hidden": (20, 20), "n_enhance": 100, "widest": 100,
            "fista_iterations": 5},
    "AE": {"n_hidden1": 16, "n_hidden2": 8, "epochs": 3, "batch_size": 16,
           "device": "cpu", "n_threads": 1},
}
_CATALOG = load_catalog()
REGISTERED = sorted(name for name in _CATALOG.algorithms
                    if _CATALOG.algorithms.plugin_of(name).builtin)


@pytest.fixture
def with_example(installed_example, monkeypatch):
    """The example plugin visible to this process, as if pip-installed here."""
    monkeypatch.syspath_prepend(str(installed_example))


@pytest.mark.parametrize("name", [*REGISTERED, EXAMPLE_ALGORITHM])
def test_every_registered_algorithm_passes_the_conformance_check(name, request):
    if name == EXAMPLE_ALGORITHM:
        request.getfixturevalue("with_example")
    spec = load_catalog().algorithms.get(name)
    if missing_requirements(spec):
        pytest.skip(f"{name} needs {', '.join(missing_requirements(spec))}")
    params = {key: value for key, value in CHEAP.get(spec.family, {}).items()
              if key in spec.factory().get_params()}
    check_algorithm(name, params=params)


def test_the_check_above_covers_every_built_in_algorithm(with_example):
    algorithms = load_catalog().algorithms
    ours = [name for name in algorithms
            if algorithms.plugin_of(name).builtin or name == EXAMPLE_ALGORITHM]
    assert sorted(ours) == sorted([*REGISTERED, EXAMPLE_ALGORITHM])
    assert {"ELM", "RELM", "KELM", "AE", "SAE", "DAE", "DDAE"} <= set(REGISTERED)


class _Bad:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(
            name="Constant", family="test", factory=DummyClassifier, randomized=False,
            search_space={"strategy": ["most_frequent"], "smoothing": [1, 2]})]


def test_the_check_catches_a_search_space_with_unknown_parameters(monkeypatch):
    import benchbase.testing as testing

    original = testing.load_catalog
    monkeypatch.setattr(testing, "load_catalog", lambda: original(
        extra=[(PluginInfo("bad", "tests", "bad-dist", "0"), _Bad())]))
    with pytest.raises(AssertionError, match=r"unknown parameters \{'smoothing'\}"):
        check_algorithm("Constant")
