"""2D teachers: the CI appearance teacher, DINOv2 and ResNet-50 (MoCo-v2) loaded strictly from checkpoints in
their official key layouts, the packaged ImageNet EfficientNet-Lite0, the pixel mapping every teacher keeps
(the map covers the whole image) and how `teacher.name: auto` resolves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from bench3d.errors import ConfigError
from bench3d.methods import build_method
from bench3d.methods.distill import sample_features
from bench3d.models.teachers import (AppearanceTeacher, DinoV2Teacher, EfficientNetLite0Teacher, ResNet50Teacher,
                                     build_teacher, resolve_teacher_kind)
from bench3d.models.teachers.resnet import ResNet50Trunk

from _teacher_checkpoints import dinov2_state, moco_checkpoint


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


def test_dinov2_loads_the_official_layout_with_both_layers(tmp_path: Path) -> None:
    path = tmp_path / "dinov2_vits14_reg4.pth"
    torch.save(dinov2_state(registers=4), path)
    pre = build_teacher("dinov2", path)
    post = build_teacher("dinov2", path, layer="post_norm")
    assert isinstance(pre, DinoV2Teacher) and pre.layer == "pre_norm" and pre.num_registers == 4
    assert (pre.dim, pre.stride) == (32, 8)
    images = torch.randint(0, 255, (2, 48, 64, 3), dtype=torch.uint8)
    f_pre, f_post = pre.encode(images), post.encode(images)
    assert f_pre.shape == f_post.shape == (2, 32, 6, 8)
    # post_norm is the final LayerNorm of pre_norm's tokens (ScaLR and SuperFlow distil the latter).
    expected = pre.norm(f_pre.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    assert torch.allclose(f_post, expected, atol=1e-5)
    assert not torch.allclose(f_pre, f_post, atol=1e-2)
    assert pre.identity["kind"] == "dinov2" and len(pre.identity["weights"]) == 64


def test_dinov2_strict_load_names_missing_key(tmp_path: Path) -> None:
    state = dinov2_state()
    del state["blocks.1.mlp.fc2.bias"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(RuntimeError, match=r"blocks\.1\.mlp\.fc2\.bias"):
        build_teacher("dinov2", tmp_path / "broken.pth")


def test_feature_map_covers_the_whole_image(tmp_path: Path) -> None:
    """A 50 x 75 image is resized to 48 x 72 (the patch multiples), not cropped: the map's cell (i, j) is what
    `sample_features` returns at the original pixel whose centre maps to the cell's centre, and the rows a
    crop would drop still change the map."""
    torch.save(dinov2_state(), tmp_path / "vit.pth")
    teacher = build_teacher("dinov2", tmp_path / "vit.pth")
    image = torch.randint(0, 255, (1, 50, 75, 3), dtype=torch.uint8)
    maps = teacher.encode(image)
    h, w = maps.shape[2:]
    assert (h, w) == (6, 9)
    ii, jj = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    uv = torch.stack([(jj.flatten() + 0.5) * 75 / w - 0.5, (ii.flatten() + 0.5) * 50 / h - 0.5], dim=1)
    sampled = sample_features(maps, torch.zeros(len(uv), dtype=torch.long), uv, (50, 75))
    assert torch.allclose(sampled, maps[0].flatten(1).T, atol=1e-5)
    edited = image.clone()
    edited[0, 48:, 72:] = 255 - edited[0, 48:, 72:]  # only pixels outside a 48 x 72 crop
    assert not torch.allclose(teacher.encode(edited)[0, :, -1, -1], maps[0, :, -1, -1])


def test_resnet50_loads_a_moco_v2_checkpoint_dilated_as_slidr(tmp_path: Path) -> None:
    path = tmp_path / "moco_v2_800ep_pretrain.pth.tar"
    trunk = moco_checkpoint(path)
    teacher = build_teacher("resnet50", path)
    assert isinstance(teacher, ResNet50Teacher) and teacher.layer == "layer4_dilated"
    assert sum(p.numel() for p in teacher.parameters()) == 23_508_032  # ResNet-50 without its 1000-way fc
    for k, v in trunk.state_dict().items():
        assert torch.equal(teacher.encoder.state_dict()[k], v), k
    # torchvision's replace_stride_with_dilation=[True, True, True]: a stage's first block keeps the previous
    # dilation, the others take the doubled one; nothing after the stem strides.
    enc = teacher.encoder
    assert [enc.layer2[0].conv2.dilation[0], enc.layer2[1].conv2.dilation[0]] == [1, 2]
    assert [enc.layer3[0].conv2.dilation[0], enc.layer3[1].conv2.dilation[0]] == [2, 4]
    assert [enc.layer4[0].conv2.dilation[0], enc.layer4[2].conv2.dilation[0]] == [4, 8]
    assert enc.layer4[0].downsample[0].stride == (1, 1)
    feats = teacher.encode(torch.randint(0, 255, (1, 64, 96, 3), dtype=torch.uint8))
    assert (teacher.dim, teacher.stride, tuple(feats.shape)) == (2048, 4, (1, 2048, 16, 24))
    plain = build_teacher("resnet50", path, layer="layer4")
    assert plain.stride == 32 and plain.encode(torch.zeros(1, 64, 96, 3, dtype=torch.uint8)).shape[2:] == (2, 3)


def test_resnet50_strictness_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "moco.pth"
    moco_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    del ckpt["state_dict"]["module.encoder_q.layer3.2.bn2.running_var"]
    torch.save(ckpt, tmp_path / "broken.pth")
    with pytest.raises(RuntimeError, match=r"layer3\.2\.bn2\.running_var"):
        build_teacher("resnet50", tmp_path / "broken.pth")
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "tiny.pth")
    with pytest.raises(ConfigError, match="not a ResNet-50 checkpoint"):
        build_teacher("resnet50", tmp_path / "tiny.pth")
    with pytest.raises(ConfigError, match="file not found"):
        build_teacher("resnet50", tmp_path / "nope.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ConfigError, match="not a torch checkpoint"):
        build_teacher("dinov2", tmp_path / "text.pth")


def test_efficientnet_teacher_uses_the_packaged_imagenet_weights() -> None:
    teacher = build_teacher("efficientnet_lite0")
    assert isinstance(teacher, EfficientNetLite0Teacher)
    assert (teacher.dim, teacher.stride, teacher.layer) == (112, 16, "stage5")
    assert len(teacher.identity["weights"]) == 64
    image = torch.randint(0, 255, (1, 90, 160, 3), dtype=torch.uint8)
    assert teacher.input_hw(90, 160) == (96, 160)  # multiples of 32: every stage's grid covers the image
    assert teacher.encode(image).shape == (1, 112, 6, 10)
    # Frozen: no gradients, BatchNorm in eval mode whatever the caller does.
    assert not any(p.requires_grad for p in teacher.parameters()) and not teacher.encoder.training


def test_build_teacher_refuses_what_does_not_fit(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--teacher-checkpoint"):
        build_teacher("dinov2")
    torch.save(dinov2_state(), tmp_path / "vit.pth")
    with pytest.raises(ConfigError, match="takes no checkpoint"):
        build_teacher("efficientnet_lite0", tmp_path / "vit.pth")
    with pytest.raises(ConfigError, match="has layers"):
        build_teacher("dinov2", tmp_path / "vit.pth", layer="layer4")
    with pytest.raises(ConfigError, match="multiples of its stride 8"):
        build_teacher("dinov2", tmp_path / "vit.pth", input_size=[60, 64])
    with pytest.raises(ConfigError, match="unknown"):
        build_teacher("clip")


def test_auto_resolves_by_release_and_checkpoint(tmp_path: Path) -> None:
    assert resolve_teacher_kind("auto", True, None) == "appearance"
    assert resolve_teacher_kind("auto", False, None) == "efficientnet_lite0"
    assert resolve_teacher_kind("resnet50", True, None) == "resnet50"
    torch.save(dinov2_state(), tmp_path / "vit.pth")
    moco_checkpoint(tmp_path / "moco.pth")
    assert resolve_teacher_kind("auto", True, tmp_path / "vit.pth") == "dinov2"
    assert resolve_teacher_kind("auto", None, tmp_path / "moco.pth") == "resnet50"
    with pytest.raises(ConfigError, match="depends on the dataset"):
        resolve_teacher_kind("auto", None, None)


def test_adapters_name_the_resolved_teacher(tmp_path: Path) -> None:
    """The resolved config (so the run id and the record) names the concrete teacher; an unresolved adapter
    refuses to pretrain rather than pick one."""
    assert build_method("slidr", synthetic_data=True).resolved_config()["config"]["teacher"]["name"] == "appearance"
    assert build_method("slidr", synthetic_data=False).config.teacher.name == "efficientnet_lite0"
    torch.save(dinov2_state(), tmp_path / "vit.pth")
    assert build_method("scalr", teacher_checkpoint=tmp_path / "vit.pth").config.teacher.name == "dinov2"
    unresolved = build_method("scalr")
    assert unresolved.config.teacher.name == "auto"
    from bench3d.methods import PretrainContext

    ctx = PretrainContext(reader=None, sample_tokens=[], device=torch.device("cpu"), seed=0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="depends on the dataset"):
        unresolved.build_training(ctx)


def test_teacher_targets_are_sampled_where_the_points_project() -> None:
    """End to end through `sample_features`: a teacher's features at a pixel are those of its cell, so an image
    split into two colours gives two targets."""
    image = torch.zeros(1, 32, 64, 3, dtype=torch.uint8)
    image[0, :, 32:] = torch.tensor([200, 30, 30], dtype=torch.uint8)
    teacher = AppearanceTeacher(dim=16, stride=2)
    maps = teacher.encode(image)
    uv = torch.tensor([[8.0, 16.0], [56.0, 16.0]])
    feats = F.normalize(sample_features(maps, torch.zeros(2, dtype=torch.long), uv, (32, 64)), dim=1)
    assert float(feats[0] @ feats[1]) < 0.5
