"""An exported bench3d LiDAR backbone in mmdet3d's own MinkUNetBackbone (spconv): strict load, same features.

CPU-only: mmdet3d's `Det3DDataPreprocessor` voxelises with hard-coded `.cuda()` calls, so the tests never run it;
the voxels come from bench3d's voxeliser and enter `MinkUNetBackbone.forward(voxel_features, coors)` directly,
through `backbone_inputs` (non-negative indices, an extent mmdet3d's spatial shape keeps whole).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from typer.testing import CliRunner

from bench3d.data.nuscenes.reader import NuScenesReader
from bench3d.interop import mmdet3d_minkunet as mm
from bench3d.cli.main import app
from bench3d.interop.export import export_backbone
from bench3d.interop.mmdet3d_check import check_export
from bench3d.interop.mmdet3d_check import mmdet3d_backbone as mmdet3d_backbone_of
from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.voxelize import VoxelConfig, voxelize_batch

TOLERANCE = 1e-4


def mmdet3d_backbone(configs: Path, overrides: dict) -> torch.nn.Module:
    """mmdet3d's MinkUNet-34 spconv backbone from its own config file, with `overrides` (sizes) applied."""
    cfg = Config.fromfile(configs / mm.MMDET3D_CONFIG)
    backbone = cfg.model.backbone
    backbone.update(copy.deepcopy({k: v for k, v in overrides.items() if k != "init_cfg"}))
    return MODELS.build(backbone).eval()


def randomise_batchnorm(net: torch.nn.Module, seed: int = 0) -> None:
    """Non-trivial BN statistics and affine terms, so a wrong key or layout cannot hide behind identity BN."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


def frame_points(release: Path, index: int = 0) -> torch.Tensor:
    reader = NuScenesReader(release, "v1.0-mini")
    token = [t for seq in reader.sequences() for t in seq.sample_tokens][index]
    frame = reader.frame(token, cameras=(), labels=False, boxes=False)
    return torch.from_numpy(frame.points[:, :4]).float()


def compare(ours: torch.nn.Module, theirs: torch.nn.Module, coords: torch.Tensor, features: torch.Tensor
            ) -> tuple[float, float]:
    """(largest absolute difference, largest |feature|) of per-voxel features, ours vs mmdet3d's."""
    padded, coors, m = mm.backbone_inputs(coords, features)
    with torch.no_grad():
        a = ours(coords, features)
        b = theirs(padded, coors)[:m]
    assert a.shape == b.shape
    return float((a - b).abs().max()), float(a.abs().max())


def test_our_paper_preset_is_mmdet3d_minkunet34(mmdet3d_configs: Path) -> None:
    theirs = dict(Config.fromfile(mmdet3d_configs / mm.MMDET3D_CONFIG).model.backbone)
    ours = mm.backbone_config(MinkUNetConfig.from_preset("paper", in_channels=4))
    assert ours == theirs


@pytest.mark.parametrize("preset", ["paper", "tiny"])
def test_exported_weights_load_strictly_and_give_the_same_features(mmdet3d_configs: Path, release: Path,
                                                                   tmp_path: Path, preset: str, figure) -> None:
    torch.manual_seed(1)
    config = MinkUNetConfig.from_preset(preset, in_channels=4, backend="torch")
    ours = MinkUNet(config)
    randomise_batchnorm(ours)
    ours.eval()
    path = tmp_path / "backbone.pth"
    torch.save({"state_dict": mm.export_state(ours.state_dict(), config)}, path)
    theirs = mmdet3d_backbone(mmdet3d_configs, mm.backbone_config(config))
    load_checkpoint(theirs, str(path), map_location="cpu", strict=True)
    points = frame_points(release)
    voxels = voxelize_batch([points[:, :3]], VoxelConfig(voxel_size=0.1), features=[points[:, :4] / 50.0])
    diff, scale = compare(ours, theirs, voxels.coords, voxels.features)
    figure(f"{preset}: {len(voxels.coords)} voxels, max |ours - mmdet3d| = {diff:.3g} (max |feature| {scale:.3g})")
    assert diff < TOLERANCE and scale > 0.1


def test_spconv2_layout_without_metadata_is_what_the_export_avoids(mmdet3d_configs: Path, tmp_path: Path) -> None:
    """mmdet3d's loader permutes spconv weights unless `_metadata` says version 2: raw (C_out, k, k, k, C_in)
    weights fail a strict load (and a non-strict `Pretrained` init would leave them random)."""
    config = MinkUNetConfig.from_preset("tiny", in_channels=4, backend="torch")
    exported = mm.export_state(MinkUNet(config).state_dict(), config)
    raw = {k: (v.permute(4, 0, 1, 2, 3) if v.dim() == 5 else v) for k, v in exported.items()}
    torch.save({"state_dict": raw}, tmp_path / "raw.pth")
    theirs = mmdet3d_backbone(mmdet3d_configs, mm.backbone_config(config))
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_checkpoint(theirs, str(tmp_path / "raw.pth"), map_location="cpu", strict=True)


def test_exported_scalr_backbone_through_the_cli_and_its_config(scalr_checkpoint: Path, release: Path,
                                                                 tmp_path: Path, figure) -> None:
    """The files as a user meets them: `bench3d export --check-frames` runs the export in mmdet3d on keyframes of
    the release; the .py config's `Pretrained` init (mmengine's non-strict path, with or without a key prefix)
    loads the same weights as a strict load."""
    out = tmp_path / "scalr_minkunet.pth"
    result = CliRunner().invoke(app, ["export", "--checkpoint", str(scalr_checkpoint), "--out", str(out),
                                      "--check-frames", "3", "--dataroot", str(release)])
    assert result.exit_code == 0, result.output
    report = check_export(out, scalr_checkpoint, dataroot=release, frames=3)
    figure(f"ScaLR export, {report.frames} keyframes ({report.points} points, {report.voxels} voxels): max |ours - "
           f"mmdet3d| = {report.max_abs_difference:.3g}, max |feature| {report.max_abs_feature:.3g}")
    assert report.max_abs_difference < TOLERANCE and report.max_abs_feature > 0.01
    assert "largest |difference| 0" in " ".join(result.output.split())

    strict = mmdet3d_backbone_of(out)
    prefixed = tmp_path / "scalr_model.pth"
    export_backbone(scalr_checkpoint, prefixed, prefix="backbone.")
    for path in (out, prefixed):
        via_init = MODELS.build(Config.fromfile(path.with_suffix(".py")).model.backbone)
        via_init.init_weights()  # mmengine's Pretrained init from the path the config names
        for (name, a), b in zip(via_init.state_dict().items(), strict.state_dict().values()):
            assert torch.equal(a, b), (path.name, name)


def test_a_prefixed_export_is_a_whole_model_load_from(scalr_checkpoint: Path, mmdet3d_configs: Path,
                                                      tmp_path: Path) -> None:
    """`--prefix backbone.`: mmdet3d's whole MinkUNet segmentor (its config, our backbone sizes) takes the file as
    `load_from` does (non-strict: the head stays as initialised), and its backbone equals a strict load."""
    prefixed = tmp_path / "model.pth"
    export_backbone(scalr_checkpoint, prefixed, prefix="backbone.")
    cfg = Config.fromfile(mmdet3d_configs / mm.MMDET3D_CONFIG)
    record = torch.load(prefixed, map_location="cpu", weights_only=False)["meta"]["bench3d"]["mmdet3d_backbone"]
    cfg.model.backbone.update(copy.deepcopy(record))
    cfg.model.decode_head.channels = 32
    model = MODELS.build(cfg.model)
    head = copy.deepcopy(model.decode_head.state_dict())
    # Deliberately non-strict, as `load_from` is: the file holds the backbone only; the asserts below show every
    # backbone tensor arrived and the head kept its init.
    load_checkpoint(model, str(prefixed), map_location="cpu", strict=False)
    strict = mmdet3d_backbone_of(prefixed)
    for (name, a), b in zip(model.backbone.state_dict().items(), strict.state_dict().values()):
        assert torch.equal(a, b), name
    assert all(torch.equal(a, b) for a, b in zip(model.decode_head.state_dict().values(), head.values()))


def test_bench3d_spconv_backend_loads_its_weights_after_mmdet3d_patched_spconv() -> None:
    """Importing mmdet3d patches spconv's SparseModule loader process-wide (a permutation unless version 2);
    bench3d's spconv convs keep torch's loader, so a state dict moves between backends unchanged."""
    from spconv.pytorch import SparseModule

    from mmdet3d.models.layers.spconv.overwrite_spconv.write_spconv2 import _load_from_state_dict as patched

    assert SparseModule._load_from_state_dict is patched  # the patch is in force in this process
    torch.manual_seed(2)
    config = MinkUNetConfig.from_preset("tiny", in_channels=4, backend="torch")
    reference = MinkUNet(config).eval()
    randomise_batchnorm(reference)
    on_spconv = MinkUNet(config.model_copy(update={"backend": "spconv"}))
    on_spconv.load_state_dict(reference.state_dict(), strict=True)
    on_spconv.eval()
    coords = torch.unique(torch.randint(-30, 30, (2000, 3)), dim=0)
    coords = torch.cat([torch.zeros(len(coords), 1, dtype=torch.long), coords], dim=1)
    features = torch.randn(len(coords), 4)
    with torch.no_grad():
        assert torch.allclose(on_spconv(coords, features), reference(coords, features), atol=1e-5)
