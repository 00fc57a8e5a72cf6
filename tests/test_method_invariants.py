"""Invariants of the distillation methods (research/methods.md §10)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from bench3d.methods.contrastive import info_nce, segment_mean
from bench3d.methods.superpixels import slic_superpixels


def test_segment_mean_equals_one_hot_average() -> None:
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(40, 5, generator=gen, dtype=torch.float64)
    segment = torch.randint(0, 7, (40,), generator=gen)
    segment[segment == 3] = 4  # segment 3 left empty
    means, counts = segment_mean(values, segment, 7)
    one_hot = F.one_hot(segment, 7).T.to(torch.float64)  # (S, P), SLidR's matrix form
    expected = (one_hot @ values) / one_hot.sum(1, keepdim=True).clamp_min(1)
    assert torch.allclose(means, expected, atol=1e-12)
    assert counts[3] == 0 and torch.equal(means[3], torch.zeros(5, dtype=torch.float64))
    assert int(counts.sum()) == 40


def test_info_nce_is_log_n_for_uninformative_features() -> None:
    n = 64
    same = F.normalize(torch.ones(n, 16), dim=1)
    assert math.isclose(info_nce(same, same).item(), math.log(n), rel_tol=1e-6)
    # Random unit vectors in high dimension are nearly orthogonal: loss ~ log N at initialisation.
    gen = torch.Generator().manual_seed(0)
    k = F.normalize(torch.randn(n, 4096, generator=gen), dim=1)
    q = F.normalize(torch.randn(n, 4096, generator=gen), dim=1)
    assert abs(info_nce(k, q).item() - math.log(n)) < 0.05
    # Extra negatives enlarge the candidate set: log(N + Q).
    assert math.isclose(info_nce(same, same, negatives=same[:10]).item(), math.log(n + 10), rel_tol=1e-6)


def test_info_nce_rewards_matching() -> None:
    k = F.normalize(torch.randn(32, 64, generator=torch.Generator().manual_seed(1)), dim=1)
    assert info_nce(k, k).item() < 0.01 < info_nce(k, k.roll(1, 0)).item()


def test_slic_superpixels_cover_image_with_slidr_parameters() -> None:
    rng = np.random.default_rng(0)
    image = np.zeros((56, 100, 3), np.uint8)
    image[:, 50:] = (200, 40, 40)
    image = (image + rng.integers(0, 20, image.shape)).astype(np.uint8)
    seg = slic_superpixels(image)
    assert seg.shape == (56, 100) and seg.min() == 0
    assert len(np.unique(seg)) == seg.max() + 1  # ids are dense from 0
    # No superpixel straddles the colour edge.
    assert not set(np.unique(seg[:, :48])) & set(np.unique(seg[:, 52:]))
