"""The numerics settings of a run: they change numbers, so they go into run ids."""

from __future__ import annotations

from typing import Any

import torch


def numerics(device: torch.device) -> dict[str, Any]:
    """Threads, deterministic-algorithms flag, dtype, mixed precision and device type of this process."""
    return {"torch_threads": torch.get_num_threads(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "dtype": str(torch.get_default_dtype()).removeprefix("torch."), "amp": False,
            "device_type": device.type}
