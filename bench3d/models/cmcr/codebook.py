"""The multi-modal unified codebook of CMCR (Eaphan/CMCR `pretrain/lightning_trainer.py`).

`size` codes of `dim` channels, L2-normalised, not trained by gradient but by an exponential moving average
of the features that choose them — from *both* modalities: with one-hot assignments E_m of modality m's
features x_m (N, D) and their paired features of the other modality x_o,

    count <- g·count + (1-g)·sum_n E_m[n]                 (then Laplace smoothing:
    count <- (count + eps) / (n + K·eps) · n,  n = sum count)
    W     <- g·W + (1-g)/2·E_mᵀ x_m + (1-g)/2·E_mᵀ x_o
    codes  = normalise(W / count)

applied for the points, then for the pixels (so decay and smoothing run twice a step, as released). Features
are unit vectors, so the squared distance is 2 - 2·cos. Straight-through quantisation q = x + sg(e - x)
passes the gradient to x unchanged.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


class UnifiedCodebook(nn.Module):
    """EMA codebook shared by point and pixel features; its state is buffers (saved, resumed, never optimised)."""

    def __init__(self, size: int = 400, dim: int = 64, decay: float = 0.999, eps: float = 1e-5,
                 commitment: float = 0.25) -> None:
        super().__init__()
        self.decay, self.eps, self.commitment = decay, eps, commitment
        codes = F.normalize(torch.rand(size, dim) * 2 - 1, dim=1)  # uniform(-1, 1), normalised (as released)
        self.register_buffer("codes", codes)
        self.register_buffer("ema_weight", codes.clone())
        self.register_buffer("ema_count", torch.zeros(size))

    def distances(self, x: torch.Tensor, codes: torch.Tensor | None = None) -> torch.Tensor:
        """Squared Euclidean distances (N, K) of features (N, D) to every code (or to `codes`)."""
        c = self.codes if codes is None else codes
        return ((x * x).sum(1, keepdim=True) - 2 * x @ c.T + (c * c).sum(1)).clamp_min(0)

    @torch.no_grad()
    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        """Index (N,) of each feature's nearest code."""
        return self.distances(x.detach()).argmin(dim=1)

    def quantise(self, x: torch.Tensor) -> torch.Tensor:
        """Straight-through quantisation: the nearest code's value, the identity's gradient."""
        return x + (self.codes[self.nearest(x)] - x).detach()

    @torch.no_grad()
    def ema_update(self, points: torch.Tensor, pixels: torch.Tensor) -> None:
        """One step of the EMA from paired features (N, D): points' codes, then pixels' codes, each moved
        towards both of the pair's features. Assignments use the codes as they were before the step."""
        points, pixels = points.detach().float(), pixels.detach().float()
        assign_p, assign_v = self.nearest(points), self.nearest(pixels)
        for assign, own, other in ((assign_p, points, pixels), (assign_v, pixels, points)):
            onehot = F.one_hot(assign, len(self.codes)).to(own.dtype)
            self.ema_count.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
            n = self.ema_count.sum()
            self.ema_count.copy_((self.ema_count + self.eps) / (n + len(self.codes) * self.eps) * n)
            moved = 0.5 * (onehot.T @ own) + 0.5 * (onehot.T @ other)
            self.ema_weight.mul_(self.decay).add_(moved, alpha=1 - self.decay)
        if dist.is_available() and dist.is_initialized():  # every rank keeps the same codebook
            for buf in (self.ema_weight, self.ema_count):
                dist.all_reduce(buf)
                buf.div_(dist.get_world_size())
        self.codes.copy_(F.normalize(self.ema_weight / self.ema_count.unsqueeze(1), dim=1))

    def commitment_losses(self, points: torch.Tensor, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each modality pulled to its own code (twice) and to its partner's code, scaled by the commitment
        cost: c·(2·mse(p, e_p) + mse(p, e_v)) and symmetrically for pixels; codes are constants."""
        e_p, e_v = self.codes[self.nearest(points)], self.codes[self.nearest(pixels)]
        c = self.commitment
        return (c * (2 * F.mse_loss(points, e_p) + F.mse_loss(points, e_v)),
                c * (2 * F.mse_loss(pixels, e_v) + F.mse_loss(pixels, e_p)))

    def code_matching_loss(self, points: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        """Cross-modal code matching: soft assignments P = softmax(-dist) of points and V of pixels over the
        codes; S_ij = P_i·log V_j + V_i·log P_j scores pair (i, j) and an InfoNCE over rows makes each point
        share its code distribution with its own pixel rather than with the others'."""
        # clamped: sqrt's gradient at a zero distance is infinite (the released code can return NaN there)
        # A copy: the graph keeps it, and the EMA step later in the same step updates the buffer in place.
        codes = self.codes.clone()
        log_p = F.log_softmax(-self.distances(points, codes).clamp_min(1e-12).sqrt(), dim=1)
        log_v = F.log_softmax(-self.distances(pixels, codes).clamp_min(1e-12).sqrt(), dim=1)
        scores = log_p.exp() @ log_v.T + log_v.exp() @ log_p.T
        return F.cross_entropy(scores, torch.arange(len(points), device=points.device))


def orthogonality_loss(shared: torch.Tensor, specific: torch.Tensor) -> torch.Tensor:
    """‖Sᵀ P̂‖_F / D² between shared features S (N, D) and L2-normalised specific features P̂ (N, D): zero when
    every shared channel is orthogonal, over the points, to every specific channel."""
    spec = F.normalize(specific, dim=1)
    return torch.linalg.matrix_norm(shared.T @ spec) / shared.shape[1] ** 2
