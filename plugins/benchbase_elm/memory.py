"""KELM's memory planner: the one place that counts what a fit or a grid scoring allocates.

Every large allocation of KELM is planned here before it is made: which solver
fits the budget (the exact N×N system or Nyström/Falkon), whether the Nyström
solver can keep K_nM (or how many of its rows), and whether model selection can share its matrices
across the grid. A plan that cannot fit raises ``MemoryError`` naming the sizes,
or (for selection) says to fit each grid point on its own.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from benchbase.numerics.linalg import BLOCK_ROWS
from benchbase_elm._streaming import CHUNK_ROWS
from benchbase_elm.nystrom import default_n_centers

GiB = 1024**3
#: Default share of the currently available memory a fit may plan to use.
MEMORY_FRACTION = 0.5
#: Assumed available memory when the system does not say (no /proc/meminfo,
#: no sysconf): small enough for any machine that runs the test suite.
FALLBACK_AVAILABLE_BYTES = 4 * GiB
#: Above this many samples "auto" prefers Nyström even when the exact N×N
#: system fits memory: its N³/3 Cholesky grows 14× from 20,000 rows to 48,000
#: (a full-MNIST selection fit); docs/kelm-at-scale.md has the timings.
AUTO_EXACT_MAX_SAMPLES = 20_000


def available_memory_bytes() -> int:
    """Memory the system can give this process now, in bytes.

    Linux: MemAvailable of /proc/meminfo (free memory plus reclaimable cache).
    Elsewhere: free physical pages from sysconf, else a fixed fallback.
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_AVAILABLE_BYTES


def memory_budget(requested: int | float | None, device=None) -> int:
    """The bytes a fit may plan to allocate: ``requested``, or ``MEMORY_FRACTION``
    of the memory available now (of the GPU's free memory on a CUDA device)."""
    if requested is not None:
        return int(requested)
    if device is not None and device.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(MEMORY_FRACTION * free)
    return int(MEMORY_FRACTION * available_memory_bytes())


def planned_bytes(n_samples: int, n_outputs: int, dtype, *, n_centers: int | None = None,
                  kept_rows: int | None = None, n_val: int | None = None,
                  keep_distances: bool = False) -> int:
    """Bytes KELM allocates on top of its inputs, for one fit or for scoring a grid.

    Exact solver (``n_centers`` None): the N×N kernel, factored in place, and
    a few N×outputs vectors. Scoring a grid (``n_val`` validation rows) keeps
    the distances and their exponential besides the copy each C factors, and
    the validation rows' distances and kernel (n_val×N each).

    Nyström solver (M = ``n_centers``): K_nM's first ``kept_rows`` rows (None:
    all n), the M×M
    factors (L and LᵀL packed in one array, where a single fit factors the
    preconditioner; scoring a grid factors it in a copy, keeping LᵀL for the
    next C), kernel row blocks, CG's
    vectors (a dozen M×outputs, two N×outputs) and one M×outputs sum per
    chunk of kept rows of the fused products. Scoring a grid keeps K_nM and
    adds the validation rows' distances and kernel (n_val×M each), and with
    ``keep_distances`` the fit rows' distances (N×M) for the next width.
    """
    item = np.dtype(dtype).itemsize
    scoring = n_val is not None
    if n_centers is None:
        matrices = (3 if scoring else 1) * n_samples**2
        validation = 2 * n_val * n_samples if scoring else 0
        return (matrices + validation) * item + 4 * n_samples * n_outputs * 8
    kept = n_samples if kept_rows is None or scoring else kept_rows
    kernel = kept * n_centers
    factors = (2 if scoring else 1) * n_centers**2
    blocks = 2 * min(BLOCK_ROWS, n_samples) * n_centers
    validation = 2 * n_val * n_centers if scoring else 0
    distances = n_samples * n_centers if keep_distances else 0
    vectors = (2 * n_samples + 12 * n_centers) * n_outputs * 8
    # the fused kernel's per-chunk sums (benchbase_elm._streaming)
    vectors += -(-kept // CHUNK_ROWS) * n_centers * n_outputs * 8
    return (kernel + factors + blocks + validation + distances) * item + vectors


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a fit (or a grid scoring) will allocate, decided before it allocates.

    ``solver`` is "exact" or "nystrom"; ``n_centers`` is M (N for exact);
    ``kept_rows`` how many of K_nM's rows the Nyström solver stores (N: all of
    them; the rest are recomputed at every pass); ``keep_distances``
    whether grid scoring keeps the fit rows' distances across widths.
    """

    solver: str
    n_centers: int
    kept_rows: int
    planned_bytes: int
    memory_budget: int
    keep_distances: bool = False

    def fit_info(self) -> dict:
        """The figures a fit reports in ``fit_info_``."""
        return {"solver": self.solver, "n_centers": self.n_centers,
                "planned_bytes": self.planned_bytes, "memory_budget": self.memory_budget}


def gib(n_bytes: float) -> str:
    return f"{n_bytes / GiB:.2f} GiB"


def plan_fit(n_samples: int, n_outputs: int, dtype, *, solver: str, n_centers, budget: int
             ) -> Plan:
    """The solver and sizes of one fit: exact when ``solver`` is "exact", or
    "auto" with the N×N system within ``budget`` and N at most
    ``AUTO_EXACT_MAX_SAMPLES``; else Nyström, keeping as many of K_nM's rows
    as fit (``nystrom_kept_rows``).

    ``n_centers`` is "auto" (``default_n_centers``) or M. Raises MemoryError
    when the chosen solver cannot fit.
    """
    exact_bytes = planned_bytes(n_samples, n_outputs, dtype)
    exact_fits = exact_bytes <= budget and n_samples <= AUTO_EXACT_MAX_SAMPLES
    if solver == "exact" or (solver == "auto" and exact_fits):
        if exact_bytes > budget:
            raise MemoryError(
                f"KELM solver='exact' needs the {n_samples}×{n_samples} kernel matrix: "
                f"about {gib(exact_bytes)} in {np.dtype(dtype).name}, over the memory "
                f"budget of {gib(budget)}; use solver='nystrom' or 'auto', or raise "
                "memory_budget")
        return Plan("exact", n_samples, n_samples, exact_bytes, budget)
    n_centers = default_n_centers(n_samples) if n_centers == "auto" else int(n_centers)
    kept = nystrom_kept_rows(n_samples, n_outputs, dtype, n_centers, budget)
    if kept is not None:
        planned = planned_bytes(n_samples, n_outputs, dtype, n_centers=n_centers,
                                kept_rows=kept)
        return Plan("nystrom", n_centers, kept, planned, budget)
    planned = planned_bytes(n_samples, n_outputs, dtype, n_centers=n_centers, kept_rows=0)
    raise MemoryError(
        f"KELM solver={solver!r}: the Nyström solver with {n_centers} centres "
        f"needs about {gib(planned)} even recomputing the {n_samples}×{n_centers} "
        f"kernel (its {n_centers}×{n_centers} factors dominate), over "
        f"the memory budget of {gib(budget)}; lower n_centers or raise memory_budget")


def nystrom_kept_rows(n_samples: int, n_outputs: int, dtype, n_centers: int,
                      budget: int) -> int | None:
    """The most of K_nM's rows a Nyström fit can keep within ``budget`` (all n
    where they fit; 0: recompute every row at every pass), or None when even
    recomputing them all does not fit. Keeping part of K_nM costs a fraction
    of a pass per iteration where keeping none costs a whole one."""
    def planned(kept: int) -> int:
        return planned_bytes(n_samples, n_outputs, dtype, n_centers=n_centers,
                             kept_rows=kept)

    if planned(n_samples) <= budget:
        return n_samples
    if planned(0) > budget:
        return None
    low, high = 0, n_samples  # planned(low) fits, planned(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if planned(middle) <= budget else (low, middle)
    return low


def plan_grid_scoring(n_samples: int, n_val: int, n_outputs: int, dtype, *, solver: str,
                      n_centers, budget: int, n_widths: int) -> Plan | None:
    """How to score a grid with ``n_widths`` kernel widths, sharing matrices
    across it with the solver a fit would use; None when the shared matrices
    do not fit ``budget`` (then each grid point is fitted on its own, each
    fit planning its own memory)."""
    fit = plan_fit(n_samples, n_outputs, dtype, solver=solver, n_centers=n_centers,
                   budget=budget)
    M = None if fit.solver == "exact" else fit.n_centers
    shared = planned_bytes(n_samples, n_outputs, dtype, n_centers=M, n_val=n_val)
    if shared > budget:
        return None
    # Nyström: keep the fit rows' distances across widths when they fit too;
    # else recompute them per width (one GEMM per width).
    with_distances = planned_bytes(n_samples, n_outputs, dtype, n_centers=M, n_val=n_val,
                                   keep_distances=True) if M and n_widths > 1 else None
    if with_distances is not None and with_distances <= budget:
        return dataclasses.replace(fit, kept_rows=n_samples, keep_distances=True,
                                   planned_bytes=with_distances)
    return dataclasses.replace(fit, kept_rows=n_samples, planned_bytes=shared)
