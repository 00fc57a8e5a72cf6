"""Every source of randomness seeded from one integer; data order derived from (seed, epoch)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


def epoch_rng(seed: int, epoch: int, stream: str = "data") -> np.random.Generator:
    """Independent generator per (seed, epoch, stream): a resumed run replays the same order."""
    return np.random.default_rng([seed, epoch, int.from_bytes(stream.encode()[:8].ljust(8, b"\0"), "little")])


def step_seed(seed: int, epoch: int, step: int, micro: int) -> int:
    """A 63-bit seed for one micro-batch of one step: the same whichever process runs it (DDP, grad-accum)."""
    return int(np.random.SeedSequence([seed, epoch, step, micro]).generate_state(2, np.uint64)[0] >> np.uint64(1))
