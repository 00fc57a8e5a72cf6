"""The CPU peak-memory probe measures a step's own peak: freed heap left resident by earlier work (the demo
measures pretraining cost in the process that trained before) is handed back before the peak is reset."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import pytest
import torch

from bench3d.engine.memory_probe import read_peak, reset_peak

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None,
                                reason="VmHWM and glibc's malloc_trim are Linux features")


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def test_peak_after_reset_excludes_freed_heap() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    cpu = torch.device("cpu")
    before = _rss_mb()
    chunks = []
    for _ in range(25_000):  # 100 MB of small blocks: heap (brk) memory, not mmap
        p = libc.malloc(4000)
        ctypes.memset(p, 1, 4000)
        chunks.append(p)
    pin = libc.malloc(64)  # above the freed blocks: glibc's automatic top trim cannot release them
    for p in chunks:
        libc.free(p)
    try:
        assert _rss_mb() - before > 60, "freed blocks stay resident until trimmed (the case this guards)"
        reset_peak(cpu)
        assert read_peak(cpu)["peak_rss_mb"] - before < 40
    finally:
        libc.free(pin)
