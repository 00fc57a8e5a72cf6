"""Segmentation losses: cross-entropy and the Lovász-softmax surrogate of the Jaccard loss.

Lovász-softmax (Berman et al., CVPR 2018): for each class present, sort the per-point errors
|onehot - p_c| in decreasing order and take their dot product with the gradient of the Lovász extension
of the Jaccard loss, computed from the cumulative sums of the sorted ground truth.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovász extension w.r.t. sorted errors (gt_sorted: float 0/1, errors descending)."""
    total = gt_sorted.sum()
    intersection = total - gt_sorted.cumsum(0)
    union = total + (1.0 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    if gt_sorted.numel() > 1:
        jaccard[1:] = jaccard[1:] - jaccard[:-1].clone()
    return jaccard


def lovasz_softmax(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int | None = None) -> torch.Tensor:
    """Mean over classes present in `labels` of the Lovász hinge on softmax probabilities.

    logits (N, C), labels (N,) int64. Points labelled `ignore_index` are dropped.
    """
    if ignore_index is not None:
        keep = labels != ignore_index
        logits, labels = logits[keep], labels[keep]
    if labels.numel() == 0:
        return logits.sum() * 0.0
    probs = logits.float().softmax(dim=1)
    losses = []
    for c in torch.unique(labels).tolist():
        if c == ignore_index:
            continue
        fg = (labels == c).float()
        errors = (fg - probs[:, c]).abs()
        errors_sorted, order = torch.sort(errors, descending=True)
        losses.append(torch.dot(errors_sorted, lovasz_grad(fg[order])))
    return torch.stack(losses).mean()


def segmentation_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int, ce_weight: float = 1.0,
                      lovasz_weight: float = 1.0) -> torch.Tensor:
    """ce_weight x CE (mean over non-ignored points) + lovasz_weight x Lovász-softmax (SLidR/ScaLR finetune)."""
    loss = ce_weight * F.cross_entropy(logits, labels, ignore_index=ignore_index)
    if lovasz_weight:
        loss = loss + lovasz_weight * lovasz_softmax(logits, labels, ignore_index=ignore_index)
    return loss
