"""The plain-torch camera encoders (ViT, no-shift Swin, ConvNeXt) honour the `CameraBackbone` contract.

Size convention checked here: every encoder rounds DOWN, so the map at stride s of an (H, W) image is
(H // s, W // s), also when H, W are not multiples of the patch / window size (e.g. 60 x 100).
"""

from __future__ import annotations

import math

import pytest
import torch

from bench3d.models.backbone import BackboneConfig, build_backbone, config_from_record
from bench3d.models.camera.base import CameraBackbone
from bench3d.models.camera.convnext import ConvNeXtBackbone, ConvNeXtConfig
from bench3d.models.camera.swin import SwinBackbone, SwinBlock, SwinConfig
from bench3d.models.camera.vit import ViTBackbone, ViTConfig

ENCODERS = [
    pytest.param(ViTBackbone, ViTConfig, (16,), (96,), id="vit"),
    pytest.param(SwinBackbone, SwinConfig, (8, 16, 32), (64, 128, 256), id="swin"),
    pytest.param(ConvNeXtBackbone, ConvNeXtConfig, (8, 16, 32), (64, 128, 256), id="convnext"),
]

#: Parameter counts of the paper sizes without a classification head (ViT-B/16, Swin-B, ConvNeXt-B).
PAPER_PARAMS = [
    pytest.param(ViTBackbone, ViTConfig, 85e6, id="vit-b"),
    pytest.param(SwinBackbone, SwinConfig, 87e6, id="swin-b"),
    pytest.param(ConvNeXtBackbone, ConvNeXtConfig, 88e6, id="convnext-b"),
]


def images(n: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, h, w, 3), dtype=torch.uint8, generator=gen)


@pytest.mark.parametrize(("cls", "config_cls", "strides", "channels"), ENCODERS)
@pytest.mark.parametrize("size", [(64, 112), (60, 100)])
def test_shapes_and_strides(cls: type[CameraBackbone], config_cls: type[BackboneConfig],
                            strides: tuple[int, ...], channels: tuple[int, ...], size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    model = cls(config_cls())
    assert model.strides == strides
    assert model.channels == channels
    assert model.out_channels == channels[-1]
    h, w = size
    with torch.no_grad():
        outs = model(images(2, h, w))
    assert len(outs) == len(strides)
    for out, stride, c in zip(outs, strides, channels):
        assert out.shape == (2, c, h // stride, w // stride)  # floor, see the module docstring
        assert out.dtype == torch.float32
        assert torch.isfinite(out).all()


@pytest.mark.parametrize(("cls", "config_cls", "strides", "channels"), ENCODERS)
def test_gradients_reach_every_parameter(cls: type[CameraBackbone], config_cls: type[BackboneConfig],
                                         strides: tuple[int, ...], channels: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    model = cls(config_cls())
    outs = model(images(2, 64, 112))
    # A plain sum of LayerNorm outputs has zero gradient at init (unit weights: the normalised channels sum to
    # zero), so weight the outputs at random to make "every gradient is non-zero" a meaningful check.
    gen = torch.Generator().manual_seed(1)
    sum((out * torch.randn(out.shape, generator=gen)).sum() for out in outs).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


@pytest.mark.parametrize(("cls", "config_cls", "strides", "channels"), ENCODERS)
def test_deterministic_build(cls: type[CameraBackbone], config_cls: type[BackboneConfig],
                             strides: tuple[int, ...], channels: tuple[int, ...]) -> None:
    x = images(2, 64, 112)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        with torch.no_grad():
            results.append(cls(config_cls())(x))
    for a, b in zip(*results):
        assert torch.equal(a, b)


@pytest.mark.parametrize(("cls", "config_cls", "strides", "channels"), ENCODERS)
def test_build_backbone_from_config(cls: type[CameraBackbone], config_cls: type[BackboneConfig],
                                    strides: tuple[int, ...], channels: tuple[int, ...]) -> None:
    config = config_cls()
    assert config.modality == "camera"
    model = build_backbone(config)
    assert type(model) is cls
    assert model.modality == "camera"
    record = config.to_record()
    # The Swin also records its masked-image-modelling options (GeoMIM's absolute position embedding).
    extra = {"absolute_position": False, "position_grid_for": (96, 192)} if config_cls.type_name == "camera_swin" else {}
    assert record == {"type": config_cls.type_name, "size": "tiny", **extra}
    assert config_from_record(record, "test") == config


@pytest.mark.parametrize(("cls", "config_cls", "expected"), PAPER_PARAMS)
def test_paper_sizes_construct(cls: type[CameraBackbone], config_cls: type[BackboneConfig],
                               expected: float) -> None:
    model = cls(config_cls(size="paper"))
    count = sum(p.numel() for p in model.parameters())
    assert math.isclose(count, expected, rel_tol=0.1), count


def stage2_change(model: SwinBackbone, pixel: tuple[int, int]) -> torch.Tensor:
    """|stage-2 output(perturbed) - stage-2 output(original)| per stage-2 token, (h, w), for a one-pixel edit."""
    x = images(1, 112, 112)
    y = x.clone()
    y[0, pixel[0], pixel[1]] = 255 - y[0, pixel[0], pixel[1]]
    with torch.no_grad():
        a, b = model(torch.cat([x, y]))[0]
    return (a - b).abs().amax(dim=0)


def test_swin_window_attention_is_local() -> None:
    """Without shift, a stage-2 token sees only its own 7 x 7 stage-2 window (56 x 56 pixels, tiles aligned to
    multiples of 56): a one-pixel edit must leave every stage-2 token outside that window bit-for-bit alike."""
    torch.manual_seed(0)
    model = SwinBackbone(SwinConfig())
    pixel = (70, 20)  # stage-2 token (8, 2): window rows 7..13, cols 0..6 of the 14 x 14 grid
    change = stage2_change(model, pixel)
    assert change.shape == (14, 14)
    inside = torch.zeros_like(change, dtype=torch.bool)
    inside[7:14, 0:7] = True
    assert change[inside].max() > 1e-4
    assert change[~inside].max() == 0

    # Negative control: with windows covering the whole map (global attention) the same check sees a leak.
    for stage in model.stages:
        for i, block in enumerate(stage):
            dim, heads = block.norm1.normalized_shape[0], block.attn.heads
            stage[i] = SwinBlock(dim, heads, window_size=28)
    leaky = stage2_change(model, pixel)
    assert leaky[~inside].max() > 1e-4
