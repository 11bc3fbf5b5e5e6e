"""Huge-page advice: factored matrices keep NumPy's, streamed ones (K_nM) go without.

Read back from the kernel: a mapping NumPy advised carries ``hg`` in its
``VmFlags`` (/proc/self/smaps).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from processes import importing_from

from benchbase.numerics.pages import numpy_huge_pages, without_huge_pages
from benchbase_elm.nystrom import FalkonSystem

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/smaps") or not numpy_huge_pages(),
    reason="needs Linux's /proc/self/smaps and NumPy's huge-page advice on "
           "(NUMPY_MADVISE_HUGEPAGE unset or 1)")

MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) ")
#: Bytes: above glibc's largest mmap threshold (32 MiB), so the array gets a
#: mapping of its own (a smaller one may reuse heap memory advised before).
BIG = 64 << 20


def advised(array: np.ndarray) -> bool:
    """Whether the mapping that holds the middle of ``array`` carries
    MADV_HUGEPAGE (NumPy advises whole 4 MiB chunks from the first page
    boundary on, which splits the mapping)."""
    address = array.ctypes.data + array.nbytes // 2
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            mapping = MAPPING.match(line)
            if mapping:
                inside = int(mapping[1], 16) <= address < int(mapping[2], 16)
            elif inside and line.startswith("VmFlags:"):
                return "hg" in line.split()[1:]
    raise AssertionError(f"no mapping holds address {address:#x}")


def in_a_fresh_process(check):
    """Run ``check`` (a function of this module) in a new interpreter. Where a
    new array lands, and so whose advice its mapping shares, depends on what
    the process allocated before: under pytest-xdist, whatever other tests
    the worker ran first."""
    code = f"import test_pages; test_pages.{check.__name__}()"
    done = subprocess.run([sys.executable, "-c", code],
                          env=importing_from(Path(__file__).parent), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_arrays_allocated_in_the_block_go_without_and_the_setting_comes_back():
    in_a_fresh_process(arrays_allocated_in_the_block_go_without)


def test_the_nystrom_kernel_is_streamed_without_and_the_factors_keep_them():
    in_a_fresh_process(the_nystrom_kernel_goes_without_and_the_factors_keep_it)


def arrays_allocated_in_the_block_go_without():
    assert advised(np.empty(BIG, dtype=np.uint8))
    with without_huge_pages():
        assert numpy_huge_pages() is False
        inside = np.empty(BIG, dtype=np.uint8)
    assert not advised(inside)
    assert numpy_huge_pages() is True
    with pytest.raises(RuntimeError), without_huge_pages():
        raise RuntimeError
    assert numpy_huge_pages() is True and advised(np.empty(BIG, dtype=np.uint8))


def the_nystrom_kernel_goes_without_and_the_factors_keep_it():
    X = np.random.default_rng(0).random((6000, 20), dtype=np.float32)
    system = FalkonSystem(X, X[:2000], kernel_width=1.0)  # K_nM 48 MB, K_MM 16 MB
    assert not advised(system.kernel)
    assert advised(system.factors)
