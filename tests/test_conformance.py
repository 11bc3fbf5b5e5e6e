"""The plugin-author conformance helper, run on our own algorithms."""

import pytest
from sklearn.dummy import DummyClassifier

import benchbase
from benchbase.plugins import PluginInfo
from benchbase.testing import check_algorithm


@pytest.mark.parametrize(
    ("name", "params"),
    [("ELM", {"n_hidden": 50}), ("RELM", {"n_hidden": 50}), ("KELM", None)],
)
def test_builtins_pass_the_conformance_check(name, params):
    check_algorithm(name, params=params)


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
