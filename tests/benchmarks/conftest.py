"""Benchmark fixtures and a closing table of the ratios the issues ask for.

Every ratio is computed from timings of the same pytest session, so machine
noise affects numerator and denominator alike.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

#: name -> measured value (seconds or GFLOP/s), filled by the benchmarks.
MEASURED: dict[str, float] = {}


def record(benchmark, name: str, value: float, unit: str) -> None:
    MEASURED[name] = value
    benchmark.extra_info[name] = f"{value:.4g} {unit}"


def best_seconds(benchmark) -> float:
    """The fastest round: the least disturbed by other work on the machine."""
    return benchmark.stats.stats.min


@pytest.fixture(scope="session")
def usps():
    """USPS (real files when BENCHBASE_DATA has them; else random data of its shape)."""
    from benchbase import DataContext
    from benchbase.plugins import load_catalog

    if os.environ.get("BENCHBASE_DATA"):
        data = load_catalog().dataset("usps").load(DataContext(allow_download=False))
        return (np.array(data.X_train), data.y_train, np.array(data.X_test), data.y_test,
                "usps")
    rng = np.random.default_rng(0)
    X = rng.random((7291 + 2007, 256), dtype=np.float32)
    y = rng.integers(0, 10, 7291 + 2007)
    return X[:7291], y[:7291], X[7291:], y[7291:], "random data of USPS's shape"


RATIOS = [
    ("KELM fit speed-up over KernelRidge (target >= 3)",
     "kernel_ridge_fit_s", "kelm_fit_s"),
    ("KELM fit FLOP rate / Cholesky rate float32 (target >= 0.7)",
     "kelm_fit_gflops", "cholesky_torch_float32_gflops"),
    ("RELM L=4000 speed-up over hpelm (target >= 4)",
     "hpelm_fit_s", "relm_fit_s"),
    ("4x4 KELM selection / one KELM fit (target <= 5)",
     "kelm_select_4x4_s", "kelm_fit_s"),
    ("one eigendecomposition / one Cholesky, selection kernel (sharing pays below 4)",
     "selection_eigh_s", "selection_cholesky_s"),
    ("DDAE per-sample epoch / AE epoch (target <= 4)",
     "ae_epoch_DDAE-sample_s", "ae_epoch_AE_s"),
    ("DDAE per-batch epoch / AE epoch (target <= 1.3)",
     "ae_epoch_DDAE-batch_s", "ae_epoch_AE_s"),
    ("dense AE step 784-500 / sgemm on its shapes (target >= 0.6)",
     "ae_step_784-500_gflops", "sgemm_784-500_gflops"),
    ("dense AE step 500-500 / sgemm on its shapes (target >= 0.6)",
     "ae_step_500-500_gflops", "sgemm_500-500_gflops"),
    ("DDAE per-sample fit, keep_prob 0.5 / AE fit (target <= 1.5)",
     "ae_fit_DDAE-sample-0.5_s", "ae_fit_AE_s"),
    ("DDAE per-sample fit, keep_prob 0.75 / AE fit (target <= 1.8)",
     "ae_fit_DDAE-sample-0.75_s", "ae_fit_AE_s"),
    ("DDAE per-sample fit, keep_prob 0.9 / AE fit (target <= 1.8)",
     "ae_fit_DDAE-sample-0.9_s", "ae_fit_AE_s"),
    ("DDAE per-batch fit / AE fit", "ae_fit_DDAE-batch_s", "ae_fit_AE_s"),
    ("K_nM kept: K_nMᵀ(K_nM V) fused / one pass K_nM V", "stream_fused_pair_s",
     "stream_one_pass_s"),
    ("K_nM kept: one CG iteration / one pass K_nM V (target <= 1.15)",
     "stream_CG_iteration_s", "stream_one_pass_s"),
    ("K_nM kept: one CG iteration / the fused kernel's own pass K_nM V",
     "stream_CG_iteration_s", "stream_one_pass_fused_kernel_s"),
    ("K_nM kept, without Numba: K_nMᵀ(K_nM V) on BLAS row blocks / one pass K_nM V",
     "stream_fused_pair_BLAS_s", "stream_one_pass_s"),
    ("K_nM kept, without Numba: one CG iteration / one pass K_nM V",
     "stream_CG_iteration_BLAS_s", "stream_one_pass_s"),
    ("K_nM built in a fresh process: NumPy's default huge-page advice / without",
     "fresh_kernel_default_advice_s", "fresh_kernel_without_advice_s"),
    ("LᵀL of the centres' factor, M = 6,000: packed in place / lauum on a copy",
     "gram_packed_s", "gram_lauum_s"),
    ("first touch of 1 GiB freed 5 s before / freed just before",
     "first_touch_after_5s_pause_s", "first_touch_after_0s_pause_s"),
    ("KELM fit on CUDA: speed-up over the CPU fit", "kelm_fit_s", "gpu_kelm_fit_s"),
    ("RELM fit on CUDA: speed-up over the CPU fit", "relm_fit_s", "gpu_relm_fit_s"),
    ("DDAE per-sample epoch on CUDA / AE epoch on CUDA",
     "gpu_ae_epoch_DDAE-sample_s", "gpu_ae_epoch_AE_s"),
    ("ELM family on digits, 5 seeds: serial / --jobs 2 (expect about 2 on 2 cores)",
     "elm_family_digits_serial_s", "elm_family_digits_jobs2_s"),
    ("ELM family on digits, 5 seeds: --dask-workers 2 / --jobs 2 (cluster start included)",
     "elm_family_digits_dask2_s", "elm_family_digits_jobs2_s"),
    ("saving a trial with 10,000 in the log / with 10 (target about 1)",
     "append_at_10000_s", "append_at_10_s"),
]


def pytest_terminal_summary(terminalreporter):
    if not MEASURED:
        return
    write = terminalreporter.write_line
    write("")
    write("benchbase measurements (this session):")
    for name, value in sorted(MEASURED.items()):
        write(f"  {name:<40} {value:10.4g}")
    for label, numerator, denominator in RATIOS:
        if numerator in MEASURED and denominator in MEASURED:
            write(f"  {label}: {MEASURED[numerator] / MEASURED[denominator]:.2f}")
