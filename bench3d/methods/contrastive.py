"""Pooling and contrastive pieces shared by the superpixel / memory methods."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def segment_mean(values: torch.Tensor, segment: torch.Tensor, num_segments: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of `values` (P, D) per segment id (P,) in [0, num_segments): (S, D) means and (S,) counts.

    Empty segments get a zero row and count 0 (SLidR's one-hot matrix product, without the matrix).
    """
    sums = torch.zeros(num_segments, values.shape[1], dtype=values.dtype, device=values.device)
    sums.index_add_(0, segment, values)
    counts = torch.bincount(segment, minlength=num_segments)
    return sums / counts.clamp_min(1).unsqueeze(1).to(values.dtype), counts


def info_nce(keys: torch.Tensor, queries: torch.Tensor, temperature: float = 0.07,
             negatives: torch.Tensor | None = None) -> torch.Tensor:
    """InfoNCE of matched rows: -mean_i log softmax_j(k_i . q_j / tau)[i], optional extra negatives (Q, D).

    With uninformative features every logit is equal and the loss is log N (N = candidates per row).
    """
    logits = keys @ queries.T
    if negatives is not None and len(negatives):
        logits = torch.cat([logits, keys @ negatives.T], dim=1)
    target = torch.arange(len(keys), device=keys.device)
    return F.cross_entropy(logits / temperature, target)
