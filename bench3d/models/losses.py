"""Segmentation losses: cross-entropy and the Lovász-softmax surrogate of the Jaccard loss.

Lovász-softmax (Berman et al., CVPR 2018): for each class present, sort the per-point errors
|onehot - p_c| in decreasing order and take their dot product with the gradient of the Lovász extension
of the Jaccard loss, computed from the cumulative sums of the sorted ground truth.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lovasz_softmax(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int | None = None) -> torch.Tensor:
    """Mean over classes present in `labels` of the Lovász hinge on softmax probabilities.

    logits (N, C), labels (N,) int64. Points labelled `ignore_index` are dropped. All classes are
    handled at once: one column-wise sort of the (N, C) error matrix instead of C sorts.
    """
    if ignore_index is not None:
        keep = labels != ignore_index
        logits, labels = logits[keep], labels[keep]
    if labels.numel() == 0:
        return logits.sum() * 0.0
    probs = logits.float().softmax(dim=1)
    fg = F.one_hot(labels, probs.shape[1]).to(probs.dtype)
    errors_sorted, order = torch.sort((fg - probs).abs(), dim=0, descending=True)
    fg_sorted = fg.gather(0, order)
    # Gradient of the Lovász extension of the Jaccard loss at the sorted errors, per class (column).
    total = fg_sorted.sum(0)
    intersection = total - fg_sorted.cumsum(0)
    union = total + (1.0 - fg_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    grad = torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]], dim=0)
    per_class = (errors_sorted * grad).sum(0)
    return per_class[total > 0].mean()


def segmentation_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int, ce_weight: float = 1.0,
                      lovasz_weight: float = 1.0) -> torch.Tensor:
    """ce_weight x CE (mean over non-ignored points) + lovasz_weight x Lovász-softmax (SLidR/ScaLR finetune)."""
    loss = ce_weight * F.cross_entropy(logits, labels, ignore_index=ignore_index)
    if lovasz_weight:
        loss = loss + lovasz_weight * lovasz_softmax(logits, labels, ignore_index=ignore_index)
    return loss
