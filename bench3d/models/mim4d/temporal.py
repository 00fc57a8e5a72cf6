"""MIM4D's drop-a-frame temporal decoder: the volume of a dropped key frame is predicted from the other
frames' volumes, warped into the key frame by ego pose and flattened to BEV (C·nz channels).

Two branches, as the official decoder (hustvl/MIM4D temporal_backbone.py): a short-term one that sees only
the adjacent frame and a long-term one that sees every other frame. The official branches are deformable
temporal attention (128-d / 4 heads and 64-d / 2 heads, 2 layers); here each is a small residual conv net,
and the long-term branch encodes each other frame with shared weights and averages them, so it takes any
number of frames (the `frames` knob runs 1-4). The key frame's own volume is never an input.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_block(channels: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
                         nn.Conv2d(hidden, hidden, 3, padding=1), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True))


class TemporalDecoder(nn.Module):
    """BEV maps of the other frames, warped into the key frame -> the key frame's predicted BEV map (B, C, nx, ny)."""

    def __init__(self, channels: int, hidden: int, short_term: bool = True, long_term: bool = True) -> None:
        super().__init__()
        if not (short_term or long_term):
            raise ValueError("the temporal decoder needs the short-term or the long-term branch")
        self.short = _conv_block(channels, hidden) if short_term else None
        self.long = _conv_block(channels, hidden) if long_term else None
        self.head = nn.Conv2d(hidden, channels, 1)

    def forward(self, adjacent: torch.Tensor, others: list[torch.Tensor]) -> torch.Tensor:
        """`adjacent` (B, C, nx, ny): the frame next to the key; `others`: every non-key frame (adjacent included)."""
        hidden = 0
        if self.short is not None:
            hidden = hidden + self.short(adjacent)
        if self.long is not None:
            hidden = hidden + torch.stack([self.long(o) for o in others]).mean(dim=0)
        return self.head(hidden)


def adjacent_frame(key: int, frames: int) -> int:
    """The frame next to `key` in time (frame 0 is the newest): the older one, or the newer one for the oldest."""
    if frames < 2:
        raise ValueError("a temporal prediction needs at least two frames")
    return key + 1 if key + 1 < frames else key - 1


def key_frames(frames: int, rng: torch.Generator) -> list[int]:
    """Frame 0 (the keyframe) and one random other frame (official uvtr_ssl_hop.py): the frames whose volumes are
    dropped in turn and predicted from the rest."""
    if frames < 2:
        return [0]
    return [0, 1 + int(torch.randint(frames - 1, (1,), generator=rng))]
