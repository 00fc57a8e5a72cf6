"""The numerics settings of a process: set once by the runner, read by the trainer, and — because they
change numbers — part of every run id.

- Mixed precision (`--amp`): `bf16` autocasts training steps to bfloat16 (CUDA or CPU); `fp16` autocasts
  to float16 with a gradient scaler (CUDA only). Evaluation runs in float32.
- On CPU, denormals are flushed to zero: they made AdamW's sqrt 20x slower in a CPU prototype.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

import torch

from bench3d.errors import ConfigError

Amp = Literal["off", "bf16", "fp16"]
_AMP: Amp = "off"


def configure_numerics(device: torch.device, amp: Amp = "off") -> None:
    """Set this process's numerics for `device`; refuses fp16 where it has no grad scaler (CPU)."""
    global _AMP
    if amp not in ("off", "bf16", "fp16"):
        raise ConfigError(f"--amp {amp!r}: use off, bf16 or fp16")
    if amp == "fp16" and device.type != "cuda":
        raise ConfigError("--amp fp16 needs a CUDA device (its grad scaler is CUDA's); use --amp bf16 on CPU")
    _AMP = amp
    if device.type == "cpu":
        torch.set_flush_denormal(True)


def amp_mode() -> Amp:
    return _AMP


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """The training step's autocast context (a no-op when mixed precision is off)."""
    if _AMP == "off":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if _AMP == "bf16" else torch.float16)


def grad_scaler(device: torch.device) -> torch.amp.GradScaler | None:
    return torch.amp.GradScaler(device.type) if _AMP == "fp16" else None


def numerics(device: torch.device, threads: int | None = None) -> dict[str, Any]:
    """Threads (this process's unless given), deterministic-algorithms flag, dtype, mixed precision and
    device type."""
    return {"torch_threads": threads or torch.get_num_threads(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "dtype": str(torch.get_default_dtype()).removeprefix("torch."), "amp": _AMP,
            "flush_denormal": device.type == "cpu", "device_type": device.type}
