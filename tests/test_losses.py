"""Lovász-softmax equals the Jaccard loss at hard predictions; gradients flow; ignore is dropped."""

from __future__ import annotations

import torch

from bench3d.models.losses import lovasz_softmax, segmentation_loss


def test_lovasz_equals_jaccard_loss_at_one_hot() -> None:
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (200,), generator=gen)
    pred = labels.clone()
    flip = torch.rand(200, generator=gen) < 0.3
    pred[flip] = torch.randint(0, 4, (int(flip.sum()),), generator=gen)
    logits = torch.full((200, 4), -1e4)
    logits[torch.arange(200), pred] = 1e4
    expected = []
    for c in labels.unique().tolist():
        inter = ((pred == c) & (labels == c)).sum().item()
        union = ((pred == c) | (labels == c)).sum().item()
        expected.append(1 - inter / union)
    assert abs(lovasz_softmax(logits, labels).item() - sum(expected) / len(expected)) < 1e-6


def test_perfect_prediction_zero_loss_and_ignore() -> None:
    labels = torch.tensor([1, 1, 2, 0, 0])
    logits = torch.full((5, 3), -50.0)
    logits[torch.arange(5), labels] = 50.0
    logits[3:, :] = torch.tensor([0.0, 50.0, -50.0])  # wrong, but on ignored points
    assert lovasz_softmax(logits, labels, ignore_index=0).item() < 1e-6
    assert segmentation_loss(logits, labels, ignore_index=0).item() < 1e-6


def test_gradients_flow() -> None:
    logits = torch.randn(50, 5, requires_grad=True)
    labels = torch.randint(0, 5, (50,))
    segmentation_loss(logits, labels, ignore_index=0).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
