"""2D teachers: the embedded appearance teacher and strict loading of a ViT checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench3d.errors import ConfigError
from bench3d.models.teacher import AppearanceTeacher, ViTTeacher, build_teacher


def test_appearance_teacher_is_deterministic_frozen_and_normalised() -> None:
    images = torch.randint(0, 255, (2, 48, 64, 3), dtype=torch.uint8)
    a, b = AppearanceTeacher(dim=32), AppearanceTeacher(dim=32)
    fa = a.encode(images)
    assert fa.shape == (2, 32, 24, 32)
    assert torch.equal(fa, b.encode(images))
    assert torch.allclose(fa.norm(dim=1), torch.ones(2, 24, 32), atol=1e-5)
    assert not any(p.requires_grad for p in a.parameters())
    a.train()
    assert not a.training


def test_appearance_separates_colour_and_texture() -> None:
    """Flat grey vs green vs striped regions of one image get clearly different features."""
    img = torch.full((1, 32, 96, 3), 110, dtype=torch.uint8)
    img[0, :, 32:64] = torch.tensor([60, 140, 50], dtype=torch.uint8)  # grass-green
    img[0, ::4, 64:] = 230  # stripes: texture, same mean hue as grey
    feats = AppearanceTeacher(dim=32, stride=1).encode(img)[0]
    grey, green, striped = feats[:, 16, 16], feats[:, 16, 48], feats[:, 16, 80]
    assert float(grey @ green) < 0.9 and float(grey @ striped) < 0.9


def _tiny_dinov2_state(dim: int = 32, depth: int = 2, patch: int = 8, grid: int = 4) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    state = {
        "cls_token": torch.randn(1, 1, dim, generator=g),
        "pos_embed": torch.randn(1, 1 + grid * grid, dim, generator=g),
        "mask_token": torch.zeros(1, dim),
        "patch_embed.proj.weight": torch.randn(dim, 3, patch, patch, generator=g) * 0.02,
        "patch_embed.proj.bias": torch.zeros(dim),
        "norm.weight": torch.ones(dim),
        "norm.bias": torch.zeros(dim),
    }
    for i in range(depth):
        p = f"blocks.{i}."
        for name, shape in {"norm1.weight": (dim,), "norm1.bias": (dim,), "norm2.weight": (dim,), "norm2.bias": (dim,),
                            "attn.qkv.weight": (3 * dim, dim), "attn.qkv.bias": (3 * dim,),
                            "attn.proj.weight": (dim, dim), "attn.proj.bias": (dim,),
                            "mlp.fc1.weight": (4 * dim, dim), "mlp.fc1.bias": (4 * dim,),
                            "mlp.fc2.weight": (dim, 4 * dim), "mlp.fc2.bias": (dim,),
                            "ls1.gamma": (dim,), "ls2.gamma": (dim,)}.items():
            state[p + name] = torch.randn(*shape, generator=g) * 0.02
    return state


def test_vit_teacher_loads_dinov2_layout(tmp_path: Path) -> None:
    path = tmp_path / "vit.pth"
    torch.save(_tiny_dinov2_state(), path)
    teacher = build_teacher(path)
    assert isinstance(teacher, ViTTeacher) and teacher.dim == 32 and teacher.stride == 8
    feats = teacher.encode(torch.randint(0, 255, (2, 48, 64, 3), dtype=torch.uint8))
    assert feats.shape == (2, 32, 6, 8)
    assert torch.isfinite(feats).all()


def test_vit_teacher_strict_load_names_missing_key(tmp_path: Path) -> None:
    state = _tiny_dinov2_state()
    del state["blocks.1.mlp.fc2.bias"]
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(RuntimeError, match=r"blocks\.1\.mlp\.fc2\.bias"):
        build_teacher(path)


def test_missing_or_foreign_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        build_teacher(tmp_path / "nope.pth")
    path = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(1)}, path)
    with pytest.raises(ConfigError, match="missing keys"):
        build_teacher(path)
