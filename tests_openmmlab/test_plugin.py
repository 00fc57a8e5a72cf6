"""bench3d's camera encoders inside an mmdet3d config (custom_imports): a pretrained encoder loads strictly, sees
the images bench3d would see after mmdet3d's data preprocessor, and trains inside an mmdet3d detector."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmdet3d.structures import CameraInstance3DBoxes, Det3DDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import nn

from bench3d.errors import ConfigError
from bench3d.models.camera.convnext import ConvNeXtBackbone, ConvNeXtConfig
from bench3d.models.camera.swin import SwinBackbone, SwinConfig
from bench3d.models.checkpoint import save_checkpoint

H, W = 96, 192  # multiples of 32 (the Swin's window grid)


@pytest.fixture()
def camera_checkpoint(tmp_path: Path) -> tuple[Path, SwinBackbone]:
    """A checkpoint as GeoMIM writes it (backbone `camera`, a camera_swin), with non-initial weights."""
    torch.manual_seed(3)
    swin = SwinBackbone(SwinConfig())
    with torch.no_grad():
        for p in swin.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    path = tmp_path / "geomim.pt"
    save_checkpoint(path, "geomim", {}, {"camera": swin}, nn.Linear(1, 1))
    return path, swin.eval()


def fcos3d_config(configs: Path, backbone: dict) -> Config:
    """mmdet3d's FCOS3D model (its own _base_ file) with a bench3d encoder as backbone and an FPN over its maps."""
    cfg = Config.fromfile(configs / "_base_" / "models" / "fcos3d.py")
    cfg.merge_from_dict({"custom_imports": dict(imports=["bench3d.interop.mmdet3d_plugin"],
                                                allow_failed_imports=False)})
    cfg.model.backbone = backbone
    cfg.model.neck.in_channels = [64, 128, 256]  # tiny encoders: maps at strides 8, 16, 32
    cfg.model.neck.start_level = 0
    cfg.model.bbox_head.feat_channels = 32
    cfg.model.neck.out_channels = cfg.model.bbox_head.in_channels = 32
    cfg.model.bbox_head.cls_branch = (32,)
    cfg.model.bbox_head.reg_branch = ((32,), (32,), (32,), (32,), ())
    cfg.model.bbox_head.dir_branch = cfg.model.bbox_head.attr_branch = (32,)
    return cfg


def build(cfg: Config) -> nn.Module:
    from mmengine.utils import import_modules_from_strings

    import_modules_from_strings(**cfg.custom_imports)  # what mmengine's Runner does with custom_imports
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model


def sample(image_bgr: np.ndarray) -> Det3DDataSample:
    """One nuScenes-mono3d-style sample with two boxes (camera frame) and their 2D boxes, centres and depths."""
    cam2img = [[100.0, 0.0, W / 2, 0.0], [0.0, 100.0, H / 2, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    ds = Det3DDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W), pad_shape=(H, W), cam2img=cam2img,
                                       box_type_3d=CameraInstance3DBoxes, scale_factor=(1.0, 1.0)))
    boxes = torch.tensor([[1.0, 1.0, 12.0, 4.0, 1.6, 1.8, 0.3, 0.5, 0.0],
                          [-2.0, 1.2, 20.0, 0.8, 1.7, 0.7, -1.0, 0.0, 0.0]])
    centres = torch.tensor([[W / 2 + 100 / 12, H / 2 + 100 / 12], [W / 2 - 10.0, H / 2 + 6.0]])
    ds.gt_instances_3d = InstanceData(bboxes_3d=CameraInstance3DBoxes(boxes, box_dim=9), labels_3d=torch.tensor([0, 8]),
                                      centers_2d=centres, depths=torch.tensor([12.0, 20.0]),
                                      attr_labels=torch.tensor([5, 2]))
    ds.gt_instances = InstanceData(bboxes=torch.tensor([[90.0, 40.0, 130.0, 75.0], [80.0, 45.0, 96.0, 80.0]]),
                                   labels=torch.tensor([0, 8]))
    return ds


def test_pretrained_encoder_loads_strictly_and_sees_bench3d_inputs(mmdet3d_configs: Path, camera_checkpoint,
                                                                   figure) -> None:
    path, swin = camera_checkpoint
    model = build(fcos3d_config(mmdet3d_configs, dict(type="Bench3DSwin", checkpoint=str(path)))).eval()
    for (name, a), b in zip(model.backbone.encoder.state_dict().items(), swin.state_dict().values()):
        assert torch.equal(a, b), name
    rgb = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    data = model.data_preprocessor({"inputs": {"img": [torch.from_numpy(rgb[:, :, ::-1].copy()).permute(2, 0, 1)]},
                                    "data_samples": [sample(rgb[:, :, ::-1])]}, training=False)
    with torch.no_grad():
        theirs = model.backbone(data["inputs"]["imgs"])
        ours = swin(torch.from_numpy(rgb)[None])
    diffs = [float((a - b).abs().max()) for a, b in zip(theirs, ours)]
    figure(f"Bench3DSwin after mmdet3d's preprocessing vs bench3d's encoder: max diff per map {diffs}")
    assert max(diffs) < 1e-4


@pytest.mark.parametrize("backbone", [dict(type="Bench3DSwin"), dict(type="Bench3DConvNeXt")])
def test_fcos3d_with_a_bench3d_encoder_trains(mmdet3d_configs: Path, backbone: dict, figure) -> None:
    torch.manual_seed(0)
    model = build(fcos3d_config(mmdet3d_configs, backbone)).train()
    bgr = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)
    data = model.data_preprocessor({"inputs": {"img": [torch.from_numpy(bgr).permute(2, 0, 1)]},
                                    "data_samples": [sample(bgr)]}, training=True)
    losses = model(**data, mode="loss")
    total = sum(v for k, v in losses.items() if "loss" in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.backbone.encoder.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads) and any(float(g.abs().max()) > 0 for g in grads)
    figure(f"FCOS3D + {backbone['type']}: losses {sorted(losses)}, total {float(total.detach()):.4f}")


def test_plugin_refusals(camera_checkpoint) -> None:
    from bench3d.interop.mmdet3d_plugin import Bench3DCameraBackbone, Bench3DConvNeXt

    path, _ = camera_checkpoint
    with pytest.raises(ConfigError, match="is a camera_swin, not camera_convnext"):
        Bench3DConvNeXt(checkpoint=str(path))
    with pytest.raises(ConfigError, match="not a bench3d camera encoder"):
        Bench3DCameraBackbone(encoder="lidar_minkunet")
    with pytest.raises(ConfigError, match="pretrained as"):
        Bench3DCameraBackbone(encoder="camera_swin", checkpoint=str(path), size="paper")
    with pytest.raises(ConfigError, match="out_indices"):
        Bench3DCameraBackbone(encoder="camera_convnext", out_indices=(3,))
    frozen = Bench3DCameraBackbone(encoder="camera_convnext", frozen=True).train()
    assert not frozen.encoder.training and not any(p.requires_grad for p in frozen.parameters())
    assert ConvNeXtBackbone(ConvNeXtConfig()).channels == frozen.channels
