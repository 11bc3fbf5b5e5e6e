"""Protocols and validation splits."""

import numpy as np
import pytest

import benchbase
from benchbase.trial.splits import Protocol, subset_sizes, take_split, validation_split


def _dataset(n_train=100, n_test=50):
    rng = np.random.default_rng(0)
    return benchbase.Dataset(
        "toy",
        rng.random((n_train, 4), dtype=np.float32), np.arange(n_train) % 5,
        rng.random((n_test, 4), dtype=np.float32), np.arange(n_test) % 5,
        (2, 2),
    )


def make_split(protocol, spec, data, seed):
    """The trial's train/test data under ``protocol`` for ``seed``, as a planned
    trial draws them (``TrialTask.call``)."""
    return take_split(data, subset_sizes(protocol, spec), seed)


def _spec(paper_subset):
    return benchbase.DatasetSpec(name="toy", load=lambda ctx: _dataset(),
                                 paper_subset=paper_subset)


@pytest.mark.parametrize(
    ("text", "sizes"),
    [("official", None), ("paper", None), ("subset:60/20", (60, 20))],
)
def test_protocol_parse(text, sizes):
    protocol = Protocol.parse(text)
    assert str(protocol) == text and protocol.sizes == sizes


@pytest.mark.parametrize("text", ["offical", "subset:10", "subset:a/b", "subset:1/5"])
def test_protocol_parse_rejects_with_a_hint(text):
    with pytest.raises(ValueError, match="protocol"):
        Protocol.parse(text)


def test_official_uses_everything_in_order():
    data = _dataset()
    split = make_split(Protocol.parse("official"), _spec(None), data, seed=3)
    np.testing.assert_array_equal(split.X_train, data.X_train)
    np.testing.assert_array_equal(split.y_test, data.y_test)


def test_paper_draws_a_fresh_random_subset_per_seed():
    data, spec = _dataset(), _spec((30, 10))
    paper = Protocol.parse("paper")
    a, a_again = make_split(paper, spec, data, 0), make_split(paper, spec, data, 0)
    b = make_split(paper, spec, data, 1)
    assert a.X_train.shape == (30, 4) and a.X_test.shape == (10, 4)
    assert a.indices_hash == a_again.indices_hash != b.indices_hash
    np.testing.assert_array_equal(a.X_train, a_again.X_train)
    # Not the first N rows.
    assert not np.array_equal(a.X_train, data.X_train[:30])


def test_paper_without_a_paper_subset_is_the_official_split():
    data = _dataset()
    official = make_split(Protocol.parse("official"), _spec(None), data, 0)
    paper = make_split(Protocol.parse("paper"), _spec(None), data, 0)
    assert paper.indices_hash == official.indices_hash


def test_subset_larger_than_data_is_refused():
    with pytest.raises(ValueError, match="only 100 train / 50 test"):
        make_split(Protocol.parse("subset:500/10"), _spec(None), _dataset(), 0)


def test_validation_split_is_stratified_and_seeded():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.repeat(np.arange(4), 25)
    X_fit, X_val, _, y_val = validation_split(X, y, seed=0)
    assert len(y_val) == 20 and np.bincount(y_val).tolist() == [5, 5, 5, 5]
    assert set(X_fit[:, 0]).isdisjoint(X_val[:, 0])
    again = validation_split(X, y, seed=0)[1]
    other = validation_split(X, y, seed=1)[1]
    np.testing.assert_array_equal(X_val, again)
    assert not np.array_equal(X_val, other)
