"""The mmdet3d export of the LiDAR backbone, checked without mmdet3d (tests_openmmlab/ loads it into mmdet3d)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from bench3d.cli.main import app
from bench3d.errors import ConfigError
from bench3d.interop import mmdet3d_minkunet as mm
from bench3d.interop.export import export_backbone
from bench3d.models.camera.swin import SwinBackbone, SwinConfig
from bench3d.models.checkpoint import save_checkpoint
from bench3d.models.encoder import EncoderConfig, LidarEncoder
from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.sparse import ConvKind, TorchSparseConv3d
from bench3d.models.sparse.tensor import SparseTensor


def unet_state(preset: str) -> tuple[MinkUNetConfig, dict[str, torch.Tensor]]:
    config = MinkUNetConfig.from_preset(preset, in_channels=4, backend="torch")
    return config, MinkUNet(config).state_dict()


@pytest.mark.parametrize("preset", ["tiny", "paper"])
def test_key_table_is_one_to_one_and_adds_only_the_identity_stem(preset: str) -> None:
    config, state = unet_state(preset)
    exported = mm.export_state(state, config)
    assert len({mm.mmdet3d_key(k) for k in state}) == len(state)
    extra = set(exported) - {mm.mmdet3d_key(k) for k in state}
    assert extra == {f"conv_input.1.{n}" for n in mm.identity_stem_layer(4)}
    # mmdet3d's structure, written out: [strided conv, block 0, ...] per encoder stage; [up conv, blocks] per decoder.
    blocks = config.encoder_blocks
    for i, n in enumerate(blocks):
        assert f"encoder.{i}.0.0.weight" in exported and f"encoder.{i}.{n}.conv2.weight" in exported
        assert f"encoder.{i}.{n + 1}.conv1.weight" not in exported
    assert "encoder.0.1.downsample.0.weight" not in exported  # stem width == first stage width: no projection
    assert "encoder.1.1.downsample.1.running_var" in exported
    for i, n in enumerate(config.decoder_blocks):
        assert f"decoder.{i}.0.1.running_mean" in exported and f"decoder.{i}.1.0.downsample.0.weight" in exported
        assert f"decoder.{i}.1.{n - 1}.bn2.weight" in exported


def test_explicit_key_examples() -> None:
    examples = {
        "stem.conv.weight": "conv_input.0.0.weight",
        "stem.bn.running_var": "conv_input.0.1.running_var",
        "encoder.2.down.conv.weight": "encoder.2.0.0.weight",
        "encoder.2.blocks.0.shortcut.0.weight": "encoder.2.1.downsample.0.weight",
        "encoder.3.blocks.5.bn2.bias": "encoder.3.6.bn2.bias",
        "decoder.1.up.bn.weight": "decoder.1.0.1.weight",
        "decoder.3.blocks.1.conv1.weight": "decoder.3.1.1.conv1.weight",
    }
    assert {k: mm.mmdet3d_key(k) for k in examples} == examples
    with pytest.raises(ConfigError, match="no mmdet3d counterpart"):
        mm.mmdet3d_key("head.weight")


def test_weights_are_written_in_the_layout_mmdet3d_converts_from() -> None:
    config, state = unet_state("tiny")
    exported = mm.export_state(state, config, prefix="backbone.")
    ours = state["encoder.1.blocks.0.conv1.weight"]  # (C_out, k, k, k, C_in) = (32, 3, 3, 3, 16)
    theirs = exported["backbone.encoder.1.1.conv1.weight"]
    assert theirs.shape == (3, 3, 3, 16, 32)
    # mmdet3d's loader: permute(*[last] + [0..last-1]) -> (C_out, k, k, k, C_in)
    assert torch.equal(theirs.permute(4, 0, 1, 2, 3), ours)
    assert torch.equal(exported["backbone.conv_input.0.1.weight"], state["stem.bn.weight"])  # 1-D: as is
    # 1x1 projection: spconv 2.3.8 multiplies features by the loaded weight's memory viewed as (C_in, C_out).
    ours_1x1 = state["encoder.1.blocks.0.shortcut.0.weight"]  # (32, 1, 1, 1, 16)
    loaded = exported["backbone.encoder.1.1.downsample.0.weight"].permute(4, 0, 1, 2, 3).contiguous()
    assert loaded.shape == ours_1x1.shape
    x = torch.randn(5, 16)
    assert torch.allclose(x @ loaded.view(16, 32), x @ ours_1x1.reshape(32, 16).T, atol=1e-6)


def random_sites(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coords = torch.unique(torch.randint(-40, 40, (n, 3), generator=g), dim=0)
    return torch.cat([torch.zeros(len(coords), 1, dtype=torch.long), coords], dim=1)


def test_identity_stem_layer_maps_features_to_themselves() -> None:
    coords = random_sites(400)
    x = torch.rand(len(coords), 8)  # post-ReLU stem output: non-negative
    layer = mm.identity_stem_layer(8)
    conv = TorchSparseConv3d(8, 8, 3, ConvKind.SUBMANIFOLD)
    conv.weight.data = layer["0.weight"]
    bn = nn.BatchNorm1d(8).eval()
    bn.load_state_dict({k[2:]: v for k, v in layer.items() if k.startswith("1.")})
    y = torch.relu(bn(conv(SparseTensor.from_voxels(coords, x)).features))
    assert torch.allclose(y, x, atol=1e-6, rtol=0)


def test_backbone_inputs_pad_the_extent_with_an_isolated_sentinel() -> None:
    coords = random_sites(600, seed=1)
    torch.manual_seed(0)
    features = torch.randn(len(coords), 4)
    padded, coors, m = mm.backbone_inputs(coords, features)
    assert m == len(coords) and coors.dtype == torch.int32 and bool((coors >= 0).all())
    assert ((coors[:, 1:].max(dim=0).values + 1) % 16 == 0).all()
    shift = coors[:m, 1:].long() - coords[:, 1:]
    assert bool((shift == shift[0]).all()) and bool((shift[0] % 16 == 0).all())
    # The sentinel changes no real voxel's features (bench3d's own UNet, eval mode, on both inputs).
    config = MinkUNetConfig.from_preset("tiny", in_channels=4, backend="torch")
    net = MinkUNet(config).eval()
    with torch.no_grad():
        alone = net(coords, features)
        with_sentinel = net(coors.long(), padded)[:m]
    assert torch.equal(alone, with_sentinel)


def test_stem_kernel_other_than_three_is_refused() -> None:
    config = MinkUNetConfig.from_preset("tiny", in_channels=1, stem_kernel_size=5)
    with pytest.raises(ConfigError, match="3x3x3 input stem"):
        mm.backbone_config(config)


@pytest.fixture()
def checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    lidar = LidarEncoder(EncoderConfig(backbone="tiny", in_features="xyz_intensity", backend="torch"))
    camera = SwinBackbone(SwinConfig())
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, "scalr", {"steps": 1}, {"lidar": lidar, "camera": camera}, nn.Linear(1, 1))
    return path


def test_export_writes_weights_and_config_and_never_overwrites(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "export" / "scalr_minkunet.pth"
    result = export_backbone(checkpoint, out)
    saved = torch.load(out, map_location="cpu", weights_only=False)
    assert set(saved) == {"meta", "state_dict"}
    meta = saved["meta"]["bench3d"]
    assert meta["method"] == "scalr" and meta["backbone_record"]["in_features"] == "xyz_intensity"
    assert len(meta["source_sha256"]) == 64 and result.num_tensors == len(saved["state_dict"])
    text = result.config.read_text()
    assert "type': 'MinkUNetBackbone'" in text and str(out.resolve()) in text and "'in_channels': 4" in text
    namespace: dict = {"dict": dict}
    exec(text, namespace)  # the config is plain Python mmengine can read
    assert namespace["model"]["backbone"]["encoder_channels"] == [16, 32, 48, 64]
    before = out.read_bytes()
    with pytest.raises(ConfigError, match="never overwrites"):
        export_backbone(checkpoint, out)
    assert out.read_bytes() == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"backbone": "camera"}, "camera encoders enter mmdet3d through the plugin"),
    ({"backbone": "radar"}, re.escape("it holds ['camera', 'lidar']")),
    ({"to": "detectron2"}, "unknown export target"),
])
def test_export_refusals_write_nothing(checkpoint: Path, tmp_path: Path, kwargs: dict, message: str) -> None:
    out = tmp_path / "x.pth"
    with pytest.raises(ConfigError, match=message):
        export_backbone(checkpoint, out, **kwargs)
    assert not out.exists() and not out.with_suffix(".py").exists()


def test_export_cli(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "lidar.pth"
    result = CliRunner().invoke(app, ["export", "--checkpoint", str(checkpoint), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".py").is_file() and "MinkUNetBackbone" in result.output
    again = CliRunner().invoke(app, ["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "y.pt")])
    assert again.exit_code == 1 and ".pth" in again.output


def test_seg_eval_arguments_move_the_ignore_label_past_the_classes() -> None:
    from bench3d.interop.mmdet3d_labels import seg_eval_arguments

    args = seg_eval_arguments([np.array([0, 1, 2, 3])], [np.array([1, 3, 2, 1])], ["a", "b", "c"], ignore_index=0)
    assert args["gt_labels"][0].tolist() == [3, 0, 1, 2] and args["seg_preds"][0].tolist() == [0, 2, 1, 0]
    assert args["ignore_index"] == 3 and args["label2cat"] == {0: "a", 1: "b", 2: "c"}
    waymo_style = seg_eval_arguments([np.array([0, 1, 2])], [np.array([2, 2, 1])], ["a", "b"], ignore_index=2)
    assert waymo_style["gt_labels"][0].tolist() == [0, 1, 2] and waymo_style["ignore_index"] == 2
    with pytest.raises(ValueError, match="outside 0..3"):
        seg_eval_arguments([np.array([4])], [np.array([1])], ["a", "b", "c"])
    with pytest.raises(ValueError, match="ignore_index -1"):
        seg_eval_arguments([np.array([1])], [np.array([1])], ["a", "b", "c"], ignore_index=-1)
