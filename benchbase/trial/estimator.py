"""An algorithm's estimator as the harness makes it: its parameters checked,
its search grid, its construction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchbase.specs import AlgorithmSpec


def make_estimator(spec: AlgorithmSpec, params: Mapping[str, Any], seed: int):
    """``spec.factory`` called with the defaults, ``params`` and, for a randomized
    algorithm, ``random_state=seed``."""
    kwargs = {**spec.defaults, **params}
    if spec.randomized:
        kwargs.setdefault("random_state", seed)
    try:
        return spec.factory(**kwargs)
    except Exception as exc:
        raise TypeError(
            f"algorithm {spec.name!r}: its factory cannot be called with the harness's "
            f"arguments {sorted(kwargs)} ({type(exc).__name__}: {exc})") from exc


def search_grid(spec: AlgorithmSpec, n_samples: int, n_features: int,
                fixed_params: Mapping[str, Any]) -> dict[str, list]:
    """The search space minus the parameters the user fixed."""
    grid = spec.grid(n_samples, n_features)
    return {k: v for k, v in grid.items() if k not in fixed_params}


class ParameterError(ValueError):
    """A fixed parameter the algorithm's estimator does not have."""


def check_params(spec: AlgorithmSpec, params: Mapping[str, Any]) -> None:
    """Reject parameter names the estimator does not have (``ParameterError``).

    An algorithm that cannot even be constructed is not refused here: each of
    its trials fails with that error and the run goes on.
    """
    try:
        known = set(make_estimator(spec, {}, 0).get_params())
    except Exception:
        return
    unknown = sorted(set(params) - known)
    if unknown:
        raise ParameterError(
            f"algorithm {spec.name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(sorted(known))}"
        )
