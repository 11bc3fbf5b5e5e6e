"""An algorithm's estimator as the harness makes it: its parameters checked,
its search grid, its construction."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

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


def _kind(value: Any) -> str | None:
    """"integer", "number", "text", "sequence" or None (anything else)."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, Integral):
        return "integer"
    if isinstance(value, Real):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, tuple | list):
        return "sequence"
    return None


def _value_problem(default: Any, value: Any) -> str | None:
    """Why ``value`` cannot stand where the estimator's default is ``default``:
    a number's place takes a number, an integer's an integer (``2000``, not
    ``2000.0``), a sequence's a sequence. Other defaults (None, "auto", a bool) accept anything
    here; the estimator checks them when it fits."""
    expected, given = _kind(default), _kind(value)
    if expected == "integer" and given != "integer":
        return "an integer"
    if expected == "number" and given not in ("integer", "number"):
        return "a number"
    if expected == "sequence" and given != "sequence":
        return "a sequence such as (700, 700)"
    return None


def check_params(spec: AlgorithmSpec, params: Mapping[str, Any]) -> None:
    """Reject parameter names the estimator does not have, and values of the
    wrong kind for their parameter (``ParameterError``), before any trial runs.

    An algorithm that cannot even be constructed is not refused here: each of
    its trials fails with that error and the run goes on.
    """
    try:
        defaults = make_estimator(spec, {}, 0).get_params()
    except Exception:
        return
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ParameterError(
            f"algorithm {spec.name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(sorted(defaults))}"
        )
    for name, value in params.items():
        wanted = _value_problem(defaults[name], value)
        if wanted:
            raise ParameterError(
                f"algorithm {spec.name!r}: {name}={value!r} is not {wanted} (its default "
                f"is {defaults[name]!r})")
