"""What a run allows each trial: threads, time and memory, checked once.

``Limits`` is made once (from the command line or the Python API), validated
when made, and handed unchanged to the orchestrator, the executor and every
worker; ``Limits.trial_threads`` turns it into a host's threads per trial.
"""

from __future__ import annotations

import dataclasses
import math

from benchbase.results.provenance import usable_cores

#: Seconds a trial may run when no timeout is given: generous for the slowest
#: trial of the full-scale suite measured so far (reports/full), with room for
#: a busy machine; a run with a hanging plugin still ends the same day.
DEFAULT_TIMEOUT_S = 6 * 3600.0


class OptionError(ValueError):
    """A run option that cannot work (a usage error, not a failed trial).

    ``option`` names the keyword argument it is about ("threads", "jobs"),
    or is "" when the message names what is wrong itself.
    """

    def __init__(self, message: str, option: str = "") -> None:
        super().__init__(f"{option} {message}" if option else message)
        self.option = option
        self.detail = message


class ExecutorOptionError(OptionError):
    """An option an executor cannot honour."""


def at_least_one(option: str, value: int | None, error: type[OptionError] = OptionError
                 ) -> None:
    """Refuse a count below one (``threads``, ``jobs``, ``workers``), naming ``option``."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise error(f"must be >= 1, got {value!r}", option)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-trial limits of a run."""

    #: BLAS/OpenMP, torch and Numba threads per trial; None: a host's usable
    #: cores divided by the trials it runs at once.
    threads: int | None = None
    #: Seconds before a trial is killed; None: ``DEFAULT_TIMEOUT_S`` where the
    #: executor can kill trials; ``math.inf``: never.
    timeout: float | None = None
    #: Private resident memory (MiB) above which a trial is killed (status ``memory``).
    memory_limit_mb: float | None = None
    #: Allow more threads in total than a host has cores.
    oversubscribe: bool = False

    def __post_init__(self) -> None:
        at_least_one("threads", self.threads)
        if self.timeout is not None and not self.timeout > 0:
            raise OptionError(f"must be > 0 seconds (or none), got {self.timeout:g}",
                              "timeout")
        if self.memory_limit_mb is not None and not self.memory_limit_mb > 0:
            raise OptionError(f"must be > 0 MiB, got {self.memory_limit_mb:g}",
                              "memory_limit_mb")

    def timeout_s(self) -> float | None:
        """The timeout to enforce, in seconds (None: none)."""
        if self.timeout is None:
            return DEFAULT_TIMEOUT_S
        return None if math.isinf(self.timeout) else self.timeout

    def trial_threads(self, trials_at_once: int, where: str = "this machine",
                      cores: int | None = None) -> int:
        """Threads for each trial of a host running ``trials_at_once``.

        ``threads`` if given, else the host's usable cores shared out. Refused
        (``ExecutorOptionError``) when they add up to more than its cores,
        unless ``oversubscribe``.
        """
        cores = cores or usable_cores()
        threads = self.threads or max(1, cores // max(1, trials_at_once))
        if not self.oversubscribe and trials_at_once * threads > cores:
            raise ExecutorOptionError(
                f"{trials_at_once} trials at once × {threads} threads each = "
                f"{trials_at_once * threads} threads on {where}, which has {cores} cores; "
                "use fewer, or --oversubscribe if you mean it (timings suffer)")
        return threads
