"""The ELM autoencoder plugin: ELM-AE, ML-ELM and H-ELM (benchbase_elmae)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from benchbase.cli import main
from benchbase.plugins import load_catalog
from benchbase_elmae import ELMAEClassifier, HELMClassifier, MLELMClassifier
from benchbase_elmae._layers import (
    ColumnMinMax,
    elm_autoencoder,
    fista_lasso,
    orthogonal_random,
    row_minmax,
)
from benchbase_elmae.helm import enhancement_width, standardize_rows
from benchbase_elmae.mlelm import last_width

NAMES = ("ELM-AE", "ML-ELM", "H-ELM")
#: Small networks: each fit takes a fraction of a second.
SMALL = {
    "ELM-AE": {"n_hidden": 24, "kernel_width": 2.0},
    "ML-ELM": {"hidden": (32,), "widest": 200},
    "H-ELM": {"hidden": (24, 24), "n_enhance": 60},
}
FACTORIES = {"ELM-AE": ELMAEClassifier, "ML-ELM": MLELMClassifier, "H-ELM": HELMClassifier}


def small(name, **params):
    return FACTORIES[name](**{**SMALL[name], "random_state": 0, **params})


# H-ELM z-scores each sample over its features (the authors' preprocessing of
# images); scikit-learn's checks classify 2-D points, which that erases.
@parametrize_with_checks([small("ELM-AE"), small("ML-ELM"), small("H-ELM", standardize=False)])
def test_scikit_learn_conformance(estimator, check):
    check(estimator)


def test_the_plugin_registers_exactly_the_three_in_the_elm_family():
    catalog = load_catalog()
    mine = sorted(name for name in catalog.algorithms
                  if catalog.algorithms.plugin_of(name).module.startswith("benchbase_elmae"))
    assert mine == sorted(NAMES)
    for name in NAMES:
        spec = catalog.algorithm(name)
        assert spec.family == "ELM" and spec.randomized and spec.score_grid is not None
    references = {table.label for ref in catalog.references.specs()
                  for table in _tables(ref)}
    assert {"ML-ELM, MNIST", "H-ELM, MNIST"} <= references


def _tables(spec):
    from benchbase.report.references import load_references

    return load_references(spec).tables


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_model_other_seed_other_model(name, digits):
    X, y = digits.X_train[:400], digits.y_train[:400]
    X_test = digits.X_test[:200]
    first = small(name).fit(X, y).decision_function(X_test)
    np.testing.assert_array_equal(small(name).fit(X, y).decision_function(X_test), first)
    assert not np.array_equal(small(name, random_state=1).fit(X, y).decision_function(
        X_test), first)


@pytest.mark.parametrize("name", NAMES)
def test_each_learns_digits_and_says_how_its_fit_went(name, digits):
    model = small(name).fit(digits.X_train, digits.y_train)
    assert model.score(digits.X_test, digits.y_test) > 0.9, name
    info = model.fit_info_  # the trial's fit_info column
    if name == "ELM-AE":  # its KELM head's record
        assert {"iterations", "seconds"} <= set(info)
        return
    assert info["widths"][-1] == (model.n_enhance_ if name == "H-ELM"
                                  else model.weights_[-1].shape[0])
    assert info["solve_dtype"] in ("float32", "float64")
    assert set(info["seconds"]) >= {"gram", "solve"}
    assert all(seconds >= 0 for seconds in info["seconds"].values())


# --- the pieces -------------------------------------------------------------------


@pytest.mark.parametrize(("n_in", "n_out"), [(30, 10), (10, 30), (16, 16)])
def test_orthogonal_random_weights(n_in, n_out):
    W = orthogonal_random(n_in, n_out, np.random.RandomState(0), np.float64)
    assert W.shape == (n_in, n_out)
    gram = W.T @ W if n_out <= n_in else W @ W.T
    np.testing.assert_allclose(gram, np.eye(min(n_in, n_out)), atol=1e-12)


def test_an_elm_autoencoder_reconstructs_its_input(digits):
    X = digits.X_train[:500].astype(np.float64)
    # A wide layer with a weak ridge reconstructs almost exactly; a narrow
    # one, or a strong ridge, less well.
    errors = {}
    for width, C in ((200, 1e6), (200, 1e-2), (8, 1e6)):
        beta = elm_autoencoder(X, width, C, np.random.RandomState(0))
        rng = np.random.RandomState(0)  # the layer's own draws, in its order
        weights = orthogonal_random(64, width, rng, np.float64)
        bias = orthogonal_random(width, 1, rng, np.float64)[:, 0]
        H = 1 / (1 + np.exp(-(X @ weights + bias)))
        errors[width, C] = float(np.mean((H @ beta - X) ** 2))
    assert errors[200, 1e6] < 1e-3
    assert errors[200, 1e6] < errors[200, 1e-2] and errors[200, 1e6] < errors[8, 1e6]


def test_fista_reaches_least_squares_thresholds_and_sparsifies():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(200, 30)), rng.normal(size=(200, 5))
    # No penalty: the iterates converge to the least-squares solution.
    exact = np.linalg.lstsq(A, B, rcond=None)[0]
    np.testing.assert_allclose(fista_lasso(A, B, 0.0, 500), exact, atol=1e-5)
    # Above max|2AᵀB| every coordinate stays at zero from the start.
    assert not fista_lasso(A, B, 2.1 * np.abs(A.T @ B).max(), 50).any()
    zeros = [np.mean(fista_lasso(A, B, penalty, 50) == 0) for penalty in (0.0, 5.0, 30.0)]
    assert zeros[0] == 0 and zeros[0] < zeros[1] < zeros[2] < 1


def test_minmax_scalings():
    Z = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]])
    np.testing.assert_array_equal(row_minmax(Z.copy()), [[-1, 1, 0], [-1, -1, -1]])
    scaler = ColumnMinMax(np.array([[0.0, 2.0], [4.0, 2.0]]))
    np.testing.assert_array_equal(scaler(np.array([[2.0, 3.0]])), [[0.5, 1.0]])


def test_rows_are_standardized_as_matlab_zscore():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(standardize_rows(X), [[-1, 0, 1], [0, 0, 0]])


def test_auto_widths_follow_the_training_set():
    assert enhancement_width(48000) == 12000 and enhancement_width(7291) == 7000
    assert enhancement_width(90) == 1000
    assert last_width(60000) == 15000 and last_width(5832) == 5000


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params", "field"), [
    ("H-ELM", {"hidden": ()}, "hidden"),
    ("H-ELM", {"n_enhance": 0}, "n_enhance"),
    ("H-ELM", {"s": -1}, "s"),
    ("H-ELM", {"l1": 0}, "l1"),
    ("ML-ELM", {"hidden": (10, -2)}, "hidden"),
    ("ML-ELM", {"ae_C": 0}, "ae_C"),
    ("ML-ELM", {"widest": 2.5}, "widest"),
    ("ELM-AE", {"n_hidden": 0}, "n_hidden"),
    ("ELM-AE", {"ae_C": -1}, "ae_C"),
])
def test_invalid_parameters_are_named(name, params, field, digits):
    with pytest.raises(ValueError, match=field):
        small(name, **params).fit(digits.X_train[:100], digits.y_train[:100])


@pytest.mark.parametrize("name", ["H-ELM", "ML-ELM"])
def test_a_network_over_the_memory_budget_is_refused_before_allocating(name, digits):
    with pytest.raises(MemoryError, match=r"over the memory budget of 0\.00 GiB"):
        small(name, memory_budget=1000).fit(digits.X_train[:100], digits.y_train[:100])


@pytest.mark.slow  # their full search grids: most of a minute of the default suite
def test_the_three_run_from_the_command_line(tmp_path, capsys):
    assert main(["run", "--algorithms", "H-ELM,ML-ELM,ELM-AE", "--datasets", "digits",
                 "--seeds", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3 trials, 0 failed" in out
