"""MIM4D invariants: rendering analytic SDFs, the warp by ego pose, the lift's projection, LiDAR-first rays,
and (adapter) the dropped frame never reaching its own prediction."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from bench3d.models.mim4d.rays import choose_rays, lidar_candidates
from bench3d.models.mim4d.render import neus_weights, render_rays, sample_pdf
from bench3d.models.mim4d.temporal import TemporalDecoder, adjacent_frame, key_frames
from bench3d.models.mim4d.volume import VoxelGrid, sample_volume, voxel_projection, warp_volume

GRID = VoxelGrid(-20.0, 20.0, -20.0, 20.0, -4.0, 4.0, 40, 40, 8)


def _coordinate_volume(grid: VoxelGrid) -> torch.Tensor:
    """A volume whose three channels are the voxel centres' x, y, z: trilinear reads return the position."""
    return grid.centres().permute(3, 0, 1, 2)[None].float()  # (1, 3, nz, nx, ny)


class _AnalyticField:
    """Duck-typed SDF field: the signed distance is a function of the position the volume hands back."""

    def __init__(self, sdf) -> None:
        self._sdf = sdf

    def sdf(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._sdf(feats), feats

    def rgb(self, geometry: torch.Tensor, feats: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
        return torch.full_like(feats, 0.5)

    def inv_s(self) -> float:
        return 200.0


def test_volume_reads_positions_exactly_inside() -> None:
    pts = torch.tensor([[[1.3, -2.7, 0.4], [10.1, 5.5, -1.9]]])
    assert torch.allclose(sample_volume(_coordinate_volume(GRID), GRID, pts), pts, atol=1e-5)


@pytest.mark.parametrize("shape", ["plane", "sphere"])
def test_rendering_an_analytic_sdf_recovers_its_depth(shape: str) -> None:
    volume = _coordinate_volume(GRID)
    origin = torch.tensor([0.0, 0.0, 1.5])
    if shape == "plane":  # the ground z = -1, signed distance positive above it
        field = _AnalyticField(lambda p: p[..., 2] + 1.0)
        dirs = torch.tensor([[1.0, 0.0, -0.25], [0.6, 0.8, -0.4], [0.0, -1.0, -0.5]])
        dirs = dirs / dirs.norm(dim=1, keepdim=True)
        truth = 2.5 / -dirs[:, 2]  # ray length to z = -1
    else:  # a sphere of radius 3 around (10, 0, 1.5)
        centre = torch.tensor([10.0, 0.0, 1.5])
        field = _AnalyticField(lambda p: (p - centre).norm(dim=-1) - 3.0)
        dirs = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.1, 0.0], [1.0, 0.0, 0.15]])
        dirs = dirs / dirs.norm(dim=1, keepdim=True)
        proj = dirs @ (centre - origin)  # ray length of the closest approach
        closest = (origin + proj[:, None] * dirs - centre).norm(dim=1)
        truth = proj - torch.sqrt(9.0 - closest ** 2)
    out = render_rays(field, volume, GRID, origin.expand(1, 3, 3), dirs[None], 0.5, 18.0, 64, 32)
    assert torch.allclose(out["depth"][0], truth, atol=0.1), (out["depth"], truth)
    assert torch.all(out["weight_sum"] <= 1.0 + 1e-5) and torch.all(out["weight_sum"] > 0.95)
    assert torch.allclose(out["rgb"][0], torch.full((3, 3), 0.5) * out["weight_sum"][0, :, None], atol=1e-5)


def test_neus_weights_are_non_negative_and_sum_to_at_most_one() -> None:
    sdf = torch.randn(200, 40, generator=torch.Generator().manual_seed(0)) * 3
    for inv_s in (1.0, 20.0, 500.0):
        w = neus_weights(sdf, inv_s)
        assert torch.all(w >= 0) and torch.all(w.sum(-1) <= 1.0 + 1e-5)


def test_importance_samples_concentrate_where_the_weight_is() -> None:
    bins = torch.linspace(0.0, 10.0, 11)[None]
    weights = torch.zeros(1, 10)
    weights[0, 6] = 1.0  # all the mass in [6, 7]
    t = sample_pdf(bins, weights, 8)
    assert torch.all((t >= 6.0 - 1e-3) & (t <= 7.0 + 1e-3))


def test_identity_warp_is_the_identity_and_a_translation_shifts_by_whole_voxels() -> None:
    grid = VoxelGrid(-8.0, 8.0, -8.0, 8.0, -2.0, 2.0, 16, 16, 4)  # 1 m voxels
    vol = torch.randn(2, 3, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(warp_volume(vol, grid, torch.eye(4).expand(2, 4, 4)), vol, atol=1e-6)
    # The destination frame sits 2 m behind the source: destination point p is source point p - (2, 0, 0)...
    # i.e. src_from_dst translates by -2 m in x, so destination voxel i reads source voxel i - 2.
    shift = torch.eye(4)
    shift[0, 3] = -2.0
    out = warp_volume(vol, grid, shift.expand(2, 4, 4))
    assert torch.allclose(out[:, :, :, 2:], vol[:, :, :, :-2], atol=1e-6)
    assert torch.all(out[:, :, :, :2] == 0)
    # y follows the second horizontal axis.
    shift = torch.eye(4)
    shift[1, 3] = 3.0
    out = warp_volume(vol, grid, shift.expand(2, 4, 4))
    assert torch.allclose(out[..., :-3], vol[..., 3:], atol=1e-6)


def _forward_camera() -> tuple[torch.Tensor, torch.Tensor]:
    """A 64 x 96 pinhole at the origin looking along +x (camera z = frame x, camera x = -frame y)."""
    k = torch.tensor([[40.0, 0.0, 47.5], [0.0, 40.0, 31.5], [0.0, 0.0, 1.0]], dtype=torch.float64)
    cam_to_frame = torch.eye(4, dtype=torch.float64)
    cam_to_frame[:3, :3] = torch.tensor([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]], dtype=torch.float64)
    return k, cam_to_frame


def test_voxel_projection_finds_the_pixel_and_depth_bin() -> None:
    grid = VoxelGrid(0.0, 16.0, -8.0, 8.0, -2.0, 2.0, 16, 16, 4)
    k, c2f = _forward_camera()
    coords = voxel_projection(grid, k[None], c2f[None], (64, 96), (0.0, 16.0, 16))[0]
    # The voxel centred at (10.5, 0.5, 0.5): z_cam 10.5 -> bin 10 (centre 10.5); u = 47.5 - 40 * 0.5 / 10.5.
    u = 47.5 - 40 * 0.5 / 10.5
    v = 31.5 - 40 * 0.5 / 10.5
    expect = torch.tensor([(u + 0.5) / 96 * 2 - 1, (v + 0.5) / 64 * 2 - 1, 10.5 / 16 * 2 - 1])
    assert torch.allclose(coords[2, 10, 8], expect.float(), atol=1e-5)
    # A voxel behind the camera samples nothing.
    behind = voxel_projection(VoxelGrid(-16.0, 0.0, -8.0, 8.0, -2.0, 2.0, 16, 16, 4), k[None], c2f[None], (64, 96),
                              (0.0, 16.0, 16))
    assert torch.all(behind.abs().amax(-1) > 1)


def test_rays_take_lidar_points_first_and_pixels_fill_the_rest() -> None:
    k, c2f = _forward_camera()
    gen = torch.Generator().manual_seed(0)
    pts = torch.stack([torch.linspace(5, 40, 10), torch.linspace(-2, 2, 10), torch.zeros(10)], 1)
    behind = torch.tensor([[-10.0, 0.0, 0.0], [1.0, 0.0, 0.0]])  # behind the camera; inside 3 m
    view = lidar_candidates(torch.cat([pts, behind]), k, c2f, (64, 96))
    assert len(view.points) == 10
    image = torch.randint(0, 255, (64, 96, 3), dtype=torch.uint8, generator=gen)
    origins, dirs, colour, depth, lidar = choose_rays(view, image, 16, gen)
    assert lidar[:10].all() and not lidar[10:].any() and torch.isnan(depth[10:]).all()
    hit = origins[:10] + dirs[:10] * depth[:10, None]
    assert torch.allclose(hit.sort(dim=0).values, pts.sort(dim=0).values, atol=1e-4)
    assert torch.allclose(dirs.norm(dim=1), torch.ones(16), atol=1e-5)
    _, _, _, _, lidar = choose_rays(view, image, 6, gen)  # fewer rays than points: all LiDAR
    assert lidar.all()


def test_temporal_decoder_and_key_frames() -> None:
    gen = torch.Generator().manual_seed(0)
    keys = {tuple(key_frames(3, gen)) for _ in range(50)}
    assert keys == {(0, 1), (0, 2)}
    assert key_frames(1, gen) == [0]
    assert [adjacent_frame(k, 3) for k in range(3)] == [1, 2, 1]
    dec = TemporalDecoder(8, 16, short_term=True, long_term=False).eval()
    a, b = torch.randn(1, 8, 6, 6), torch.randn(1, 8, 6, 6)
    # The short-term branch sees only the adjacent frame.
    assert torch.equal(dec(a, [a, b]), dec(a, [a, torch.zeros_like(b)]))
    with pytest.raises(ValueError):
        TemporalDecoder(8, 16, short_term=False, long_term=False)
    with torch.no_grad():
        assert math.isfinite(float(TemporalDecoder(8, 16)(a, [a, b]).sum()))


SMALL = {"crop": [32, 96], "read_size": [56, 100], "rays_per_view": 16, "uniform_samples": 8,
         "importance_samples": 4, "temporal_hidden": 8, "max_points": 4000,
         "volume": {"x": [-25.6, 25.6], "y": [-25.6, 25.6], "z": [-5.0, 3.0], "shape": [16, 16, 2]}}


def _adapter_and_item(release: Path, overrides: dict | None = None, components: dict | None = None):
    from bench3d.harness.runner import Runner
    from bench3d.methods import PretrainContext, build_method
    from bench3d.results import ResultsStore

    runner = Runner(ResultsStore(release.parent / "unused-store"), "cpu", release)
    ds = runner.dataset("synth")
    tokens = runner.split_tokens(ds, ds.train_split)
    ctx = PretrainContext(reader=runner.reader(ds), sample_tokens=tokens, device=torch.device("cpu"), seed=0)
    adapter = build_method("mim4d", overrides={**SMALL, **(overrides or {})}, components=components)
    return adapter, ctx, tokens


def test_frames_have_their_own_poses_and_ray_candidates(harness_release: Path) -> None:
    adapter, ctx, tokens = _adapter_and_item(harness_release)
    item = adapter.prepare(ctx, tokens[-1])  # the last keyframe of a scene has camera sweeps before it
    assert item.images.shape == (3, 6, 32, 96, 3) and item.projection.shape == (3, 6, 2, 16, 16, 3)
    assert not torch.equal(item.poses[0], item.poses[1])  # the ego moved between frames
    assert all(len(view.points) > 0 for view in item.rays[0])  # every camera sees LiDAR points
    # A frame's candidate points project into its images where they were found.
    view = item.rays[1][0]
    cam = torch.linalg.inv(view.cam_to_frame.double())
    uvw = (view.points.double() @ cam[:3, :3].T + cam[:3, 3]) @ view.intrinsic.double().T
    assert torch.allclose((uvw[:, :2] / uvw[:, 2:]).float(), view.pixels, atol=1e-3)
    single = _adapter_and_item(harness_release, {"frames": 1})[0].prepare(ctx, tokens[-1])
    assert single.images.shape[0] == 1 and torch.equal(single.images[0], item.images[0])


def test_the_dropped_frame_never_reaches_its_own_prediction(harness_release: Path) -> None:
    adapter, ctx, tokens = _adapter_and_item(harness_release)
    torch.manual_seed(0)
    backbones = adapter.build_backbones()
    heads = adapter.build_heads(backbones, ctx)
    item = adapter.prepare(ctx, tokens[-1])
    poses = item.poses[None]

    def predicted(images: torch.Tensor, key: int) -> torch.Tensor:
        it = type(item)(item.token, images, item.projection, item.poses, item.rays)
        volumes = adapter.encode(backbones, heads, [it], [0, 1, 2], torch.Generator().manual_seed(5), ctx.device)
        return adapter.predict(heads, volumes, poses, key)

    with torch.no_grad():
        base = predicted(item.images, 2)
        noisy = item.images.clone()
        noisy[2] = torch.randint(0, 255, noisy[2].shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
        assert torch.equal(predicted(noisy, 2), base)  # frame 2's own pixels never reach its prediction
        assert not torch.allclose(predicted(noisy, 0), predicted(item.images, 0))  # but they do reach frame 0's


def test_components_are_validated(harness_release: Path) -> None:
    from bench3d.errors import ConfigError

    with pytest.raises(ConfigError, match="short_term or the long_term"):
        _adapter_and_item(harness_release, components={"short_term": False, "long_term": False})
    with pytest.raises(ConfigError, match="direct_render off"):
        _adapter_and_item(harness_release, components={"direct_render": False, "temporal_decoder": False})
    with pytest.raises(ConfigError, match="rgb_loss or the depth_loss"):
        _adapter_and_item(harness_release, components={"rgb_loss": False, "depth_loss": False})


def test_mim4d_pretrains_through_the_runner_and_transfers_only_the_encoder(harness_release: Path,
                                                                          tmp_path: Path) -> None:
    from _cards import using_cards, write_cards

    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import EvalSpec, PretrainSpec
    from bench3d.methods import build_method
    from bench3d.results import ResultsStore

    cards = write_cards(tmp_path / "cards", {**SMALL, "epochs": 1}, {"bev_seg_probe": {"epochs": 1}})
    with using_cards(cards):
        runner = Runner(ResultsStore(tmp_path / "store"), "cpu", harness_release)
        run_id, ckpt = runner.pretrain(PretrainSpec("mim4d", "synth"))
        record = runner.store.read(run_id)
        losses = record.metrics["loss_history"][0]
        assert set(losses) == {"rgb", "depth"} and all(math.isfinite(v) and v > 0 for v in losses.values())
        assert runner.pretrain(PretrainSpec("mim4d", "synth"))[0] == run_id  # finished: found, not rerun
        # The single-frame baseline (temporal decoder off) has no temporal modules.
        single, ctx, _ = _adapter_and_item(harness_release, {"epochs": 1}, {"temporal_decoder": False})
        assert "temporal" not in single.build_heads(single.build_backbones(), ctx)
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        assert set(saved["backbones"]) == {"camera"}
        assert {k.split(".")[0] for k in saved["heads"]} == {"frames", "field", "temporal"}
        encoder = build_method("mim4d").load_backbone("camera", ckpt)  # strict
        assert [m.shape[1] for m in encoder(torch.zeros(2, 56, 100, 3, dtype=torch.uint8))] == [64, 128, 256]
        broken = dict(saved["backbones"]["camera"])
        broken.pop(next(iter(broken)))
        saved["backbones"]["camera"] = broken
        torch.save(saved, tmp_path / "broken.pt")
        with pytest.raises(Exception, match=r"missing keys \[.downsample.0.0.weight.\]"):
            build_method("mim4d").load_backbone("camera", tmp_path / "broken.pt")
        probe = runner.evaluate(EvalSpec("mim4d", "bev_seg_probe", "synth", 1.0, 0, 0))
        assert probe.checkpoint == run_id and 0.0 <= probe.metrics["miou"] <= 1.0
        floor = runner.evaluate(EvalSpec("random_convnext", "bev_seg_probe", "synth", 1.0, 0, 0))
        assert floor.checkpoint is None and 0.0 <= floor.metrics["miou"] <= 1.0


def test_input_mask_zeroes_the_ratio_of_cells_per_image() -> None:
    from bench3d.models.mim4d.encoding import input_mask

    mask = input_mask(4, 96, 192, 32, 0.3, torch.Generator().manual_seed(0))  # 3 x 6 = 18 cells, 5 masked
    cells = mask[:, 0, ::32, ::32]
    assert mask.shape == (4, 1, 96, 192) and set(mask.unique().tolist()) == {0.0, 1.0}
    assert (cells == 0).sum(dim=(1, 2)).tolist() == [5, 5, 5, 5]
    assert torch.equal(mask[:, :, :32, :32], cells[:, None, :1, :1].expand(4, 1, 32, 32))  # whole cells
    assert not torch.equal(cells[0], cells[1])  # drawn per image


def test_efficiency_over_frames_shares_a_report_with_lima(harness_release: Path, tmp_path: Path) -> None:
    from _cards import using_cards, write_cards

    from bench3d.harness.efficiency_runner import run_efficiency
    from bench3d.harness.runner import Runner
    from bench3d.reports.efficiency import write_efficiency_report
    from bench3d.results import ResultsStore

    cards = write_cards(tmp_path / "cards", {**SMALL, "epochs": 1}, {})
    with using_cards(cards):
        runner = Runner(ResultsStore(tmp_path / "store"), "cpu", harness_release)
        mim4d = run_efficiency(runner, "mim4d", [1, 2], steps=1, warmup=0)
        assert [(r.metrics["frames"], r.metrics["status"]) for r in mim4d] == [(1, "ok"), (2, "ok")]
        assert [r.provenance.resolved_config["method"]["config"]["frames"] for r in mim4d] == [1, 2]
        lima = run_efficiency(runner, "lima", [1], steps=1, warmup=0, compare_bank=False)
        paths, df = write_efficiency_report(mim4d + lima, tmp_path / "reports", baseline="lima")
        assert set(df.method) == {"mim4d", "lima"} and df.loc[df.method == "mim4d", "frames"].tolist() == [1, 2]
        assert "| mim4d |" in paths[1].read_text() and "divide by lima's time" in paths[1].read_text()
        # Ratios against the baseline at the same frames; none where the baseline has no such setting.
        one = df[(df.method == "mim4d") & (df.frames == 1)].iloc[0]
        lima_one = df[df.method == "lima"].iloc[0]
        assert one.time_vs_baseline == pytest.approx(one.step_time_s / lima_one.step_time_s)
        assert one.memory_vs_baseline == pytest.approx(one.peak_memory_mb / lima_one.peak_memory_mb)
        assert lima_one.time_vs_baseline == 1.0 and math.isnan(df[df.frames == 2].iloc[0].time_vs_baseline)
