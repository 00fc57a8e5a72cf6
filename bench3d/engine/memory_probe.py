"""Peak memory of one step: CUDA allocator peaks on a GPU, the process's peak RSS on CPU.

On Linux, writing 5 to /proc/self/clear_refs resets the peak RSS (VmHWM) to the current RSS, so the
peak read after a step is that step's own peak, not the whole process's. Before the reset, glibc's
`malloc_trim` hands the heap's free pages back to the system: without it, a process that trained something
earlier (the demo measures its efficiency runs in the same process as its evaluations) keeps that run's freed
heap resident, and every later step's "peak" would start from it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from pathlib import Path

import torch

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def _vm_hwm_mb() -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/self/status")


@cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_free_heap() -> None:
    """Return the C heap's free pages to the system, so the resident set is what is live (glibc only)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        release_free_heap()
        _CLEAR_REFS.write_text("5")


def read_peak(device: torch.device) -> dict[str, float]:
    if device.type == "cuda":
        return {"peak_allocated_mb": torch.cuda.max_memory_allocated(device) / 2**20,
                "peak_reserved_mb": torch.cuda.max_memory_reserved(device) / 2**20}
    return {"peak_rss_mb": _vm_hwm_mb()}


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the step and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
