"""Where and with what a result was made: machine, software, code and command.

``environment()`` describes the process it runs in (a trial's: the host, CPU,
memory, OS, Python, library versions, the BLAS libraries loaded and their
threads, torch's and Numba's threads, a GPU when torch has one, the project's
git commit when it runs from a checkout); every result row stores it. ``run_record()`` adds what a
run shares: the exact command line and the orchestrator's own environment.
Nothing here imports a heavy library that is not loaded already.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shlex
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchbase.timing import host_memory_mb

#: Distributions whose versions every row records ("" when not installed).
PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "numba", "pandas", "pluggy",
            "threadpoolctl")


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def cpu_model() -> str:
    """The CPU's marketing name and, on x86 Linux, its family, model and widest
    vector unit: "AMD EPYC" alone names CPUs that differ by 3× (AVX2 or AVX-512).
    Elsewhere what platform says."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # the first processor's block is enough
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = next((fields[key] for key in ("model name", "Hardware", "Processor")
                 if key in fields), "") or platform.processor() or platform.machine()
    if "cpu family" not in fields:
        return name
    flags = set(fields.get("flags", "").split())
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name} (family {fields['cpu family']} model {fields.get('model', '?')}, {vector})"


def usable_cores() -> int:
    """Cores this process may run on (its affinity), else every core."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def memory_gib() -> float | None:
    mib = host_memory_mb()
    return None if mib is None else round(mib / 1024, 1)


def blas_libraries() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries loaded in this process and their thread counts."""
    from threadpoolctl import threadpool_info

    return [
        {"api": pool.get("internal_api", ""), "version": pool.get("version") or "",
         "threads": pool.get("num_threads"), "library": Path(pool["filepath"]).name,
         "architecture": pool.get("architecture") or ""}
        for pool in threadpool_info()
    ]


def library_threads() -> dict[str, int | None]:
    """Threads torch and Numba would use now (None: not loaded)."""
    torch, numba = sys.modules.get("torch"), sys.modules.get("numba")
    return {"torch": torch.get_num_threads() if torch is not None else None,
            "numba": numba.get_num_threads() if numba is not None else None}


def gpu() -> str:
    """The CUDA device torch would use, if torch is already loaded and sees one."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return ""
    return torch.cuda.get_device_name()


@functools.cache
def git_commit() -> str:
    """The commit of the checkout benchbase runs from ("+dirty" if changed), or ""."""
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():  # an installed wheel, not a checkout
        return ""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(source), *args], capture_output=True,
                                  text=True, timeout=10, check=True).stdout.strip()

        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("+dirty" if dirty else "")


def environment() -> dict[str, Any]:
    """This process's machine and software, as JSON-ready values."""
    return {
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "memory_gib": memory_gib(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": {name: _version(name) for name in PACKAGES},
        "blas": blas_libraries(),
        "threads": library_threads(),
        "gpu": gpu(),
        # NumPy's huge-page advice, as NumPy read it at import (unset: advised).
        "numpy_madvise_hugepage": os.environ.get("NUMPY_MADVISE_HUGEPAGE"),
        "git_commit": git_commit(),
    }


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (shell-quoted), with the program's base name;
    ``python -m PACKAGE`` for a package run as a module (its argv[0] is the
    package's ``__main__.py``)."""
    argv = list(sys.argv if argv is None else argv)
    if argv:
        program = Path(argv[0])
        argv[0:1] = (["python", "-m", program.parent.name] if program.name == "__main__.py"
                     else [program.name])
    return shlex.join(argv)


def run_record(run_id: str, started_at: str, argv: list[str] | None = None,
               suite: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every trial of one run shares: its id, start, command, suite (its
    name and report settings) and orchestrator."""
    record = {"run_id": run_id, "started_at": started_at, "command": command_line(argv),
              "cwd": os.getcwd(), "environment": environment()}
    if suite:
        record["suite"] = dict(suite)
    return record
