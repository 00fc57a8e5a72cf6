"""The run's device, checked before anything runs: a CUDA device that is not there is an error naming the
fix, never a silent fallback to the CPU."""

from __future__ import annotations

import torch

from bench3d.errors import ConfigError


def resolve_device(name: str | torch.device) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"--device {name!r}: {exc} (use cpu, cuda or cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: no CUDA device is available to this torch build "
                              f"({torch.__version__}); use --device cpu or install a CUDA build of torch")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) visible")
    elif device.type != "cpu":
        raise ConfigError(f"--device {name}: unsupported device type {device.type!r} (use cpu or cuda)")
    return device
