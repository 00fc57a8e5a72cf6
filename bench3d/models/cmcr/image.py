"""CMCR's image side: random patch masks for masked image modelling, and the reconstruction decoder
(Eaphan/CMCR `pretrain/dataloader_nuscenes.py`, `lightning_trainer.py`)."""

from __future__ import annotations

import torch
from torch import nn


def patch_masks(cameras: int, hw: tuple[int, int], image_prob: float, patch: int, patch_prob: float,
                rng: torch.Generator) -> torch.Tensor:
    """(C, H, W) bool, True where a pixel is masked: each image is masked with probability `image_prob`;
    a masked image loses each whole `patch`×`patch` cell independently with probability `patch_prob`
    (Bernoulli, not an exact ratio). Rows and columns that do not fill a whole cell stay unmasked."""
    h, w = hw
    gh, gw = h // patch, w // patch
    chosen = torch.rand(cameras, generator=rng) < image_prob
    cells = (torch.rand(cameras, gh, gw, generator=rng) < patch_prob) & chosen.view(-1, 1, 1)
    mask = torch.zeros(cameras, h, w, dtype=torch.bool)
    mask[:, :gh * patch, :gw * patch] = cells.repeat_interleave(patch, 1).repeat_interleave(patch, 2)
    return mask


class ReconstructionDecoder(nn.Module):
    """Image features (B, dim, H, W) -> RGB in [0, 1]: conv3×3 dim→32, ReLU, 32→16, ReLU, 16→3, sigmoid."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim, 32, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(16, 3, 3, padding=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
