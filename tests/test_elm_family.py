"""ELM, RELM and KELM: scikit-learn conformance, the paper's equations, edge cases."""

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.utils.estimator_checks import parametrize_with_checks

from benchbase_elm import ELMClassifier, KELMClassifier, RELMClassifier


@parametrize_with_checks(
    [
        # The defaults (float32; ELM's 1,000 hidden units interpolate the
        # checks' few samples with huge output weights), a small layer, float64.
        ELMClassifier(random_state=0),
        ELMClassifier(n_hidden=5, random_state=0),
        ELMClassifier(n_hidden=20, dtype="float64", random_state=0),
        RELMClassifier(random_state=0),
        RELMClassifier(n_hidden=20, random_state=0),
        KELMClassifier(),
        KELMClassifier(dtype="float64"),
    ]
)
def test_scikit_learn_conformance(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [
    ELMClassifier(n_hidden=300, random_state=0),
    ELMClassifier(n_hidden=2000, random_state=0),  # interpolating: huge output weights
    RELMClassifier(n_hidden=300, C=1e3, random_state=0),
    KELMClassifier(C=1e3, kernel_width=1.5),
    KELMClassifier(C=1e3, kernel_width=1.5, solver="nystrom", n_centers=200),
], ids=["ELM", "ELM-interpolating", "RELM", "KELM", "KELM-nystrom"])
def test_predictions_do_not_depend_on_the_batch(estimator, digits):
    """float32 models: a row's scores are the same bits alone, in any order, in any subset."""
    model = estimator.fit(digits.X_train[:1000], digits.y_train[:1000])
    X = digits.X_test
    scores, labels = model.decision_function(X), model.predict(X)
    assert scores.dtype == np.float32
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(model.decision_function(X[order]), scores[order])
    np.testing.assert_array_equal(model.decision_function(X[5::7]), scores[5::7])
    for row in range(0, len(X), 45):
        np.testing.assert_array_equal(model.decision_function(X[row:row + 1]),
                                      scores[row:row + 1])
    np.testing.assert_array_equal(model.predict(X[order]), labels[order])


def _one_hot(y):
    classes = np.unique(y)
    return (y[:, None] == classes[None, :]).astype(np.float64)


def _kernel_ridge(X, y, C, width):
    # Eq. (12)'s width γ is scikit-learn's gamma = 1 / (2 γ²).
    return KernelRidge(kernel="rbf", alpha=1.0 / C,
                       gamma=1 / (2 * width**2)).fit(X.astype(np.float64), _one_hot(y))


def test_kelm_float64_equals_kernel_ridge(digits, linalg_backend):
    X, y = digits.X_train[:600].astype(np.float64), digits.y_train[:600]
    X_test = digits.X_test[:200].astype(np.float64)
    C, width = 50.0, 2.0
    kelm = KELMClassifier(C=C, kernel_width=width, dtype="float64").fit(X, y)
    np.testing.assert_allclose(kelm.decision_function(X_test),
                               _kernel_ridge(X, y, C, width).predict(X_test),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("C", [1.0, 50.0, 1000.0])
def test_kelm_float32_agrees_with_kernel_ridge_to_1e4_of_scale(digits, C, linalg_backend):
    """The README's claim for the default dtype (float32 solve, float64 kernel rows
    at prediction): KernelRidge's decision values to 1e-4 of their largest
    magnitude for C up to 1,000 on digits, and the same predicted labels."""
    X, y, width = digits.X_train, digits.y_train, 2.0
    kelm = KELMClassifier(C=C, kernel_width=width).fit(X, y)
    assert kelm.solve_dtype_ == np.float32
    want = _kernel_ridge(X, y, C, width).predict(digits.X_test.astype(np.float64))
    got = kelm.decision_function(digits.X_test)
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
    np.testing.assert_array_equal(kelm.predict(digits.X_test), want.argmax(axis=1))


def test_kelm_float32_agrees_with_float64(digits):
    kwargs = dict(C=100.0, kernel_width=1.5)
    f64 = KELMClassifier(dtype="float64", **kwargs).fit(digits.X_train, digits.y_train)
    f32 = KELMClassifier(dtype="float32", **kwargs).fit(digits.X_train, digits.y_train)
    agree = np.mean(f64.predict(digits.X_test) == f32.predict(digits.X_test))
    assert agree >= 0.995
    assert f32.dual_coef_.dtype == np.float32


def test_elm_output_weights_are_the_pseudo_inverse_solution(blobs):
    X, y = blobs
    elm = ELMClassifier(n_hidden=30, dtype="float64", random_state=0).fit(X, y)
    H = elm._hidden(X.astype(np.float64))
    np.testing.assert_allclose(elm.coef_, np.linalg.pinv(H) @ _one_hot(y), atol=1e-8)


def test_relm_primal_and_dual_agree(blobs, linalg_backend):
    X, y = blobs
    kwargs = dict(n_hidden=50, C=3.0, dtype="float64", random_state=1)
    primal = RELMClassifier(solver="primal", **kwargs).fit(X, y)
    dual = RELMClassifier(solver="dual", **kwargs).fit(X, y)
    np.testing.assert_allclose(primal.coef_, dual.coef_, rtol=1e-7, atol=1e-9)


def test_relm_auto_picks_the_smaller_system(blobs):
    X, y = blobs  # 120 samples
    assert RELMClassifier(n_hidden=50).fit(X, y).solver_ == "primal"
    assert RELMClassifier(n_hidden=500).fit(X, y).solver_ == "dual"


def test_relm_matches_its_formula(blobs):
    X, y = blobs
    relm = RELMClassifier(n_hidden=40, C=0.5, dtype="float64", random_state=2).fit(X, y)
    H = relm._hidden(X.astype(np.float64))
    beta = np.linalg.solve(np.eye(40) / 0.5 + H.T @ H, H.T @ _one_hot(y))
    np.testing.assert_allclose(relm.coef_, beta, rtol=1e-8)


def test_random_layer_follows_random_state(blobs):
    X, y = blobs
    a = ELMClassifier(n_hidden=10, random_state=5).fit(X, y)
    b = ELMClassifier(n_hidden=10, random_state=5).fit(X, y)
    c = ELMClassifier(n_hidden=10, random_state=6).fit(X, y)
    np.testing.assert_array_equal(a.input_weights_, b.input_weights_)
    assert not np.array_equal(a.input_weights_, c.input_weights_)


@pytest.mark.parametrize(
    ("estimator", "param"),
    [
        (ELMClassifier(n_hidden=0), "n_hidden"),
        (ELMClassifier(n_hidden=2.5), "n_hidden"),
        (RELMClassifier(C=-1), "C"),
        (RELMClassifier(solver="qr"), "solver"),
        (KELMClassifier(kernel_width=0), "kernel_width"),
        (KELMClassifier(C="big"), "C"),
        (KELMClassifier(dtype="float16"), "dtype"),
    ],
)
def test_invalid_hyperparameters_name_the_parameter(estimator, param, blobs):
    with pytest.raises(ValueError, match=param):
        estimator.fit(*blobs)


def test_singular_float32_system_is_solved_in_float64(digits):
    # Every training image twice: Ω is singular, and with C = 1e8 the shift 1/C
    # is below float32 resolution, so float32 Cholesky fails. The fit must
    # fall back to float64, not crash.
    X = np.vstack([digits.X_train, digits.X_train])
    y = np.concatenate([digits.y_train, digits.y_train])
    kelm = KELMClassifier(C=1e8, kernel_width=3.0).fit(X, y)
    assert kelm.solve_dtype_ == np.float64
    assert kelm.score(digits.X_test, digits.y_test) > 0.95
