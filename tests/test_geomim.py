"""GeoMIM's invariants (research/camera.md §1): complementary masks shared by the batch; no attention across
mask groups in the encoder; the decoder sees only its group (mask tokens elsewhere); cross-view attention mixes
only tokens of one image row; the camera gate responds to camera numbers; targets are standardised per BEV
patch; the depth loss has its closed form; and end to end through the runner — the supervised LiDAR teacher
made first with its own record, its labels in the pretraining's provenance, the encoder transferring strictly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from _cards import using_cards, write_cards

from bench3d.models.camera.swin import SwinBackbone, SwinConfig
from bench3d.models.geomim.decoder import CameraGate, CrossViewBlock, GeoMIMDecoder, camera_numbers
from bench3d.models.geomim.targets import complementary_groups, depth_bce, patch_normalise


def test_masks_are_complementary_halves_and_change_with_the_generator() -> None:
    a = complementary_groups(3, 6, torch.Generator().manual_seed(0))
    b = complementary_groups(3, 6, torch.Generator().manual_seed(1))
    assert a.shape == (3, 6) and set(a.unique().tolist()) == {0, 1}
    assert int((a == 0).sum()) == int((a == 1).sum()) == 9
    assert not torch.equal(a, b)
    odd = complementary_groups(1, 3, torch.Generator().manual_seed(0))
    assert sorted(odd.flatten().tolist()) == [0, 1, 1]  # every cell in exactly one group


def test_encoder_attention_never_crosses_mask_groups() -> None:
    torch.manual_seed(0)
    encoder = SwinBackbone(SwinConfig(absolute_position=True, position_grid_for=(96, 192))).eval()
    x = torch.randn(2, 3, 96, 192)
    groups = complementary_groups(3, 6, torch.Generator().manual_seed(3)).expand(2, 3, 6)
    before = encoder.features(x, groups)
    other = (groups == 1).repeat_interleave(32, 1).repeat_interleave(32, 2)[:, None].expand_as(x)
    y = x.clone()
    y[other] = torch.randn(int(other.sum()))
    after = encoder.features(y, groups)
    for stride, p, q in zip((8, 16, 32), before, after):
        mine = (groups == 0).repeat_interleave(32 // stride, 1).repeat_interleave(32 // stride, 2)
        mine = mine[:, None].expand_as(p)
        assert torch.equal(p[mine], q[mine]), stride  # group 0 never saw group 1
        assert not torch.allclose(p[~mine], q[~mine])
    with pytest.raises(ValueError, match="multiples of 32"):
        encoder.features(torch.randn(1, 3, 112, 200), groups[:1])


def _randomise(module: torch.nn.Module) -> None:
    torch.manual_seed(1)
    for p in module.parameters():
        torch.nn.init.normal_(p, std=0.2)


def test_cross_view_attention_mixes_only_one_image_row_across_views() -> None:
    block = CrossViewBlock(16, 2)
    x = torch.randn(1, 6, 3, 5, 16)
    assert torch.equal(block(x), x)  # starts as the identity (zero-initialised projections)
    _randomise(block)
    y = x.clone()
    y[0, 2, 1, 3] += torch.randn(16)  # one token: view 2, row 1, column 3 (not a constant: LayerNorm)
    changed = (block(y) - block(x)).abs().amax(-1)[0] > 1e-6  # (V, h, w)
    assert changed[:, 1].all()  # every view's tokens of row 1
    assert not changed[:, 0].any() and not changed[:, 2].any()


def test_the_decoder_sees_only_its_group_and_the_gate_reads_the_cameras() -> None:
    torch.manual_seed(0)
    decoder = GeoMIMDecoder(16, 2, 4, (0, 2), 1, 2, (0,), camera_gate=True).eval()
    _randomise(decoder)
    tokens = torch.randn(2, 6, 4, 6, 16)
    visible = complementary_groups(4, 6, torch.Generator().manual_seed(0)) == 0
    cams = torch.randn(2, 6, 22)
    sem, geo = decoder(tokens, visible, cams)
    hidden = tokens.clone()
    hidden[:, :, ~visible] = torch.randn_like(hidden[:, :, ~visible])
    sem2, geo2 = decoder(hidden, visible, cams)
    assert torch.equal(sem, sem2) and torch.equal(geo, geo2)  # the other group's tokens are mask tokens
    moved = cams.clone()
    moved[0, 3, 0] += 50.0  # view 3's focal length
    sem3, geo3 = decoder(tokens, visible, moved)
    assert torch.equal(sem, sem3)  # the semantic branch is not gated
    assert not torch.allclose(geo3[0, 3], geo[0, 3])  # the geometry branch follows its camera
    gate = CameraGate(8).eval()
    _randomise(gate)
    x = torch.ones(1, 2, 1, 1, 8)
    a, b = gate(x, cams[:1, :2]), gate(x, moved[:1, :2])
    assert torch.equal(a, b)  # views 0, 1 unchanged
    no_branch = GeoMIMDecoder(16, 2, 4, (), None, 2, (), camera_gate=False)
    assert no_branch(tokens, visible, cams)[1] is None


def test_camera_numbers_follow_the_official_order() -> None:
    k = torch.tensor([[100.0, 0, 50], [0, 110, 40], [0, 0, 1]])
    s2e = torch.arange(16, dtype=torch.float32).view(4, 4)
    n = camera_numbers(k, torch.eye(2), torch.tensor([-4.0, -16.0]), s2e)
    assert n.tolist() == [100, 110, 50, 40, 1, 0, -4, 0, 1, -16, *range(12)]


def test_targets_are_standardised_per_patch_and_the_depth_loss_has_its_closed_form() -> None:
    bev = torch.randn(2, 3, 8, 12) * 5 + 2
    out = patch_normalise(bev, 4)
    blocks = out.reshape(2, 3, 2, 4, 3, 4).permute(0, 2, 4, 1, 3, 5).reshape(2, 2, 3, -1)
    assert torch.allclose(blocks.mean(-1), torch.zeros(2, 2, 3), atol=1e-5)
    assert torch.allclose(blocks.var(-1, unbiased=False), torch.ones(2, 2, 3), atol=1e-4)
    with pytest.raises(ValueError, match="patches"):
        patch_normalise(bev, 5)
    depth = torch.full((1, 4, 1, 2), 0.25)
    onehot = torch.zeros(1, 4, 1, 2)
    onehot[0, 1, 0, 0] = 1  # one foreground cell; the other has no LiDAR depth
    expected = -(math.log(0.25) + 3 * math.log(0.75))  # sum over the bins of the one cell
    assert depth_bce(depth, onehot).item() == pytest.approx(expected, rel=1e-5)


def test_geomim_pretrains_through_the_runner_with_its_teacher_and_transfers_the_encoder(
        harness_release: Path, tmp_path: Path) -> None:
    """The supervised LiDAR teacher is made first (its own record, kept weights), its labels are in the
    pretraining's provenance, a second pretraining reuses it, and only the encoder transfers, strictly."""
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import EvalSpec, PretrainSpec
    from bench3d.methods import build_method
    from bench3d.results import ResultsStore

    cards = write_cards(tmp_path / "cards", {"epochs": 1, "max_points": 4000, "crop": [32, 96],
                                             "read_size": [56, 100]}, {"det3d_teacher": {"epochs": 1}})
    with using_cards(cards):
        store = ResultsStore(tmp_path / "store")
        runner = Runner(store, "cpu", harness_release)
        spec = PretrainSpec("geomim", "synth")
        assert runner.pretraining_id(spec) is None  # the teacher does not exist yet: nothing is made
        run_id, ckpt = runner.pretrain(spec)
        record = store.read(run_id)
        teacher = record.provenance.resolved_config["bev_teacher"]
        assert teacher["kind"] == "lidar_det" and teacher["labels"].startswith("3D boxes of the synth")
        teacher_record = store.read(teacher["run_id"])
        assert teacher_record.protocol == "det3d_teacher" and teacher_record.metrics["weights"]["sha256"] == \
            teacher["sha256"]
        assert set(record.metrics["loss_history"][0]) == {"reconstruction", "depth"}
        assert all(math.isfinite(v) for v in record.metrics["loss_history"][0].values())
        assert runner.pretraining_id(spec) == run_id
        ablated = runner.pretrain(PretrainSpec("geomim", "synth", components=(("depth_supervision", False),)))[0]
        assert ablated != run_id and store.read(ablated).provenance.resolved_config["bev_teacher"] == teacher
        assert set(store.read(ablated).metrics["loss_history"][0]) == {"reconstruction"}
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        assert set(saved["backbones"]) == {"camera"}  # only the encoder transfers
        assert {k.split(".")[0] for k in saved["heads"]} == {"neck", "decoder", "lift"}  # pretraining-only
        encoder = build_method("geomim").load_backbone("camera", ckpt)  # strict: raises on any key mismatch
        assert torch.equal(encoder.absolute_position, saved["backbones"]["camera"]["absolute_position"])
        maps = encoder(torch.zeros(6, 56, 100, 3, dtype=torch.uint8))
        assert [m.shape[1] for m in maps] == [64, 128, 256]
        broken = dict(saved["backbones"]["camera"])
        broken.pop("absolute_position")
        saved["backbones"]["camera"] = broken
        torch.save(saved, tmp_path / "broken.pt")
        with pytest.raises(Exception, match="absolute_position"):
            build_method("geomim").load_backbone("camera", tmp_path / "broken.pt")
        probe = runner.evaluate(EvalSpec("geomim", "bev_seg_probe", "synth", 1.0, 0, 0))
        assert probe.checkpoint == run_id and 0.0 <= probe.metrics["miou"] <= 1.0
        # A table row made with the labelled teacher says so.
        from bench3d.reports.comparison import write_comparison

        _, markdown = write_comparison(store.root, "synth", tmp_path / "reports", task="bev_seg")
        assert "| geomim †1 |" in markdown and "†1 geomim: pretrained against a LiDAR BEV teacher (lidar_det" in markdown
        assert "3D boxes of the synth mini_train split" in markdown
        # A setting (--set) joins the run id; the teacher stays the same.
        other = PretrainSpec("geomim", "synth", settings=(("target_patch", 4),))
        assert runner.pretraining_id(other) not in (None, run_id)


def test_study_axes_are_validated_before_anything_runs() -> None:
    from bench3d.errors import ConfigError
    from bench3d.harness.ablation import axis_variants

    assert axis_variants("geomim", "tiny", {"teacher": ["lidar_det", "lidar_ssl"]}) == {
        "teacher=lidar_ssl": {"teacher": "lidar_ssl"}}  # the card's own value is the `full` variant
    # Settings every variant shares (a study's shorter budget) stay in each axis variant.
    assert axis_variants("geomim", "tiny", {"teacher": ["lidar_ssl"]}, {"epochs": 10}) == {
        "teacher=lidar_ssl": {"epochs": 10, "teacher": "lidar_ssl"}}
    with pytest.raises(ConfigError, match="no setting 'teachr'"):
        axis_variants("geomim", "tiny", {"teachr": ["lidar_ssl"]})
    with pytest.raises(ConfigError, match="teacher"):
        axis_variants("geomim", "tiny", {"teacher": ["lidar_magic"]})
