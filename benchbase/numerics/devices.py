"""Where an algorithm's arrays live: NumPy on the CPU, or torch tensors on a GPU.

``benchbase.numerics.linalg`` accepts either kind of array and computes where the array
lives, so an estimator with a ``device`` parameter moves its inputs once
(``to_device``) and runs the same numerics. Torch is imported only when a
device other than the CPU is asked for.
"""

from __future__ import annotations

import importlib.util

import numpy as np

DEVICES = ("auto", "cpu", "cuda")


def check_device(device: str) -> None:
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")


def resolve_device(device: str):
    """The torch device ``device`` names, or None for the NumPy/SciPy CPU path.

    "cpu" is None; "cuda" needs torch and a CUDA device (else a ValueError
    that says which is missing); "auto" is "cuda" when both are there.
    """
    check_device(device)
    if device == "cpu":
        return None
    if importlib.util.find_spec("torch") is None:
        if device == "auto":
            return None
        raise ValueError("device='cuda' needs torch: pip install 'benchbase-suite[ae]' "
                         "(or a CUDA build of torch)")
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if device == "auto":
        return None
    raise ValueError("device='cuda' but torch finds no CUDA device")


def is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def torch_dtype(dtype):
    torch = torch_mod()
    return {np.dtype(np.float32): torch.float32,
            np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


def numpy_dtype(x) -> np.dtype:
    """An array's dtype as NumPy's (a torch tensor's float32 is np.float32)."""
    if is_torch(x):
        return np.dtype(str(x.dtype).removeprefix("torch."))
    return x.dtype


def astype(x, dtype, *, copy: bool = False):
    """``x`` as ``dtype`` (a NumPy dtype), the same kind of array; a copy only
    when the dtype changes or ``copy``."""
    if is_torch(x):
        return x.to(torch_dtype(dtype), copy=copy)
    return x.astype(dtype, copy=copy)


def to_device(x: np.ndarray, device):
    """A NumPy array on ``device`` (None: the array itself)."""
    if device is None:
        return x
    return torch_mod().from_numpy(np.ascontiguousarray(x)).to(device)


def copy(x):
    """A contiguous copy, of either kind of array."""
    return x.clone(memory_format=torch_mod().contiguous_format) if is_torch(x) else x.copy()


def on_device_of(like, x: np.ndarray):
    """A NumPy array moved to where ``like`` lives."""
    return to_device(x, like.device) if is_torch(like) else x


def matmul(a, b):
    """a @ b with NumPy's type promotion (torch refuses mixed float dtypes)."""
    if is_torch(a) and a.dtype != b.dtype:
        dtype = torch_mod().promote_types(a.dtype, b.dtype)
        return a.to(dtype) @ b.to(dtype)
    return a @ b


def torch_mod():
    """The torch module (imported only on a path that already holds tensors)."""
    import torch

    return torch


def to_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if is_torch(x) else x


def empty_like_kind(like, shape, dtype=None, *, zeros=False, order="C"):
    """A new array of ``shape`` of the same kind, device and (default) dtype as
    ``like``. ``order`` applies to NumPy arrays (torch's are row-major)."""
    dtype = numpy_dtype(like) if dtype is None else np.dtype(dtype)
    if is_torch(like):
        torch = torch_mod()
        make = torch.zeros if zeros else torch.empty
        return make(shape, dtype=torch_dtype(dtype), device=like.device)
    return (np.zeros if zeros else np.empty)(shape, dtype=dtype, order=order)
