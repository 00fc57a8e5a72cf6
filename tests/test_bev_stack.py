"""The shared BEV stack: LSS geometry pinned by a golden point, vectorised pooling equal to a naive loop,
the head's resampling onto the map-mask grid keeping BEVFusion's axis order, the ImageNet weights, and the
bev_seg task through the runner for a camera and a LiDAR backbone."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bench3d.models.bev.grid import BevGrid, pool_to_bev
from bench3d.models.bev.lss import depth_bins, frustum_cells, naive_splat
from bench3d.tasks.bev_seg.head import target_sampling_grid

# Camera axes (x right, y down, z forward) -> LiDAR (x forward, y left, z up), camera at the LiDAR origin.
CAM_TO_LIDAR = torch.tensor([[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0, 0, 0, 1.0]])


def test_a_frustum_point_lands_in_the_golden_cell() -> None:
    grid = BevGrid(cell=0.8)
    k = torch.tensor([[100.0, 0.0, 103.5], [0.0, 100.0, 55.5], [0.0, 0.0, 1.0]])  # principal point: pixel centre
    # Feature pixel (3, 6) of a stride-16 map is centred on image pixel (6.5 * 16 - 0.5, 3.5 * 16 - 0.5).
    cells = frustum_cells(grid, torch.tensor([10.0, 30.0]), k[None], CAM_TO_LIDAR[None], (7, 13), 16)
    u, v = 6.5 * 16 - 0.5, 3.5 * 16 - 0.5
    for d_index, depth in enumerate((10.0, 30.0)):
        x, y, z = depth, -(u - 103.5) / 100 * depth, -(v - 55.5) / 100 * depth  # forward, left, up
        i, j = math.floor((x + 51.2) / 0.8), math.floor((y + 51.2) / 0.8)
        assert cells[0, d_index, 3, 6].item() == i * grid.ny + j, (x, y, z)
    # A point above the grid's z range is dropped.
    high = frustum_cells(BevGrid(z_min=-1.0, z_max=0.5), torch.tensor([40.0]), k[None], CAM_TO_LIDAR[None], (7, 13), 16)
    assert high[0, 0, 0, 6].item() == -1  # top row at 40 m: about 22 m up


def test_vectorised_pooling_equals_the_naive_loop() -> None:
    gen = torch.Generator().manual_seed(0)
    volume = torch.randn(500, 8, generator=gen)
    index = torch.randint(-1, 40, (500,), generator=gen)
    torch.testing.assert_close(pool_to_bev(volume, index, 40), naive_splat(volume, index, 40), atol=1e-5, rtol=0)
    mean = pool_to_bev(volume, index, 40, mean=True)
    cell = int(index[index >= 0][0])
    torch.testing.assert_close(mean[cell], volume[index == cell].mean(0), atol=1e-6, rtol=0)


def test_head_resamples_x_on_the_first_axis() -> None:
    """A BEV map whose value is each cell's x (forward) coordinate, resampled onto the 200 x 200 map grid,
    gives the map cell's own x along the first axis: BEVFusion's (x, y) order, cell centres aligned."""
    grid = BevGrid(cell=0.8)
    xs = grid.x_min + (torch.arange(grid.nx) + 0.5) * grid.cell
    bev = xs.view(1, 1, grid.nx, 1).expand(1, 1, grid.nx, grid.ny).contiguous()
    out = torch.nn.functional.grid_sample(bev, target_sampling_grid(grid, torch.device("cpu")), align_corners=False)
    expected = -50 + (torch.arange(200) + 0.5) * 0.5
    torch.testing.assert_close(out[0, 0, :, 100], expected, atol=1e-4, rtol=0)
    assert torch.allclose(out[0, 0, 37, :], out[0, 0, 37, 0])  # constant along y


def test_imagenet_weights_load_strictly_and_differ_from_random() -> None:
    from bench3d.methods import build_method

    imagenet = build_method("imagenet").load_backbone("camera", None)
    random_ = build_method("random_camera").load_backbone("camera", None, init_seed=0)
    again = build_method("random_camera").load_backbone("camera", None, init_seed=0)
    w = "_conv_stem.weight"
    assert not torch.equal(imagenet.state_dict()[w], random_.state_dict()[w])
    assert torch.equal(random_.state_dict()[w], again.state_dict()[w])  # seeded
    assert imagenet.state_dict()["_bn0.running_var"].std() > 0  # trained BatchNorm statistics came with it


REAL = Path(__file__).resolve().parents[2] / "shared" / "real-nuscenes-frame"


@pytest.mark.skipif(not (REAL / "samples").is_dir(), reason="no real nuScenes frame")
def test_imagenet_encoder_recognises_the_real_street() -> None:
    """A wrong port (padding, normalisation, layer order) gives near-uniform junk; the real one names what a
    Singapore street shows: a traffic light behind, a large vehicle ahead (ImageNet class indices)."""
    from PIL import Image

    from bench3d.models.camera.efficientnet_lite import EfficientNetLite0, EfficientNetLiteConfig

    model = EfficientNetLite0(EfficientNetLiteConfig(weights="imagenet")).eval()

    def top(channel: str, k: int) -> list[int]:
        (path,) = (REAL / "samples" / channel).glob("*.jpg")
        crop = np.asarray(Image.open(path).convert("RGB").resize((400, 225)))[:224, 88:312]
        with torch.no_grad():
            return model.logits(torch.from_numpy(np.ascontiguousarray(crop))[None]).topk(k).indices[0].tolist()

    assert 920 in top("CAM_BACK", 3)  # traffic light
    assert top("CAM_FRONT", 1)[0] in {569, 654, 675, 705, 779, 829, 867, 874}  # bus, tram, truck, ...


@pytest.mark.parametrize("method", ["imagenet", "random"])
def test_bev_seg_probe_through_the_runner(method: str, harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    """Both backbones through the runner; the camera run keeps its model (`keep_weights`), which reloads
    strictly, re-scores the recorded mIoU and is drawn by `bench3d show --run` beside the true map."""
    from typer.testing import CliRunner

    from bench3d.cli.main import app
    from bench3d.harness.predictions import first_eval_token, load_kept_model, predict_frame
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import EvalSpec
    from bench3d.results import ResultsStore

    store = ResultsStore(tmp_path / "store")
    keep = method == "imagenet"
    record = Runner(store, "cpu", harness_release, keep_weights=keep).evaluate(
        EvalSpec(method, "bev_seg_probe", "synth", 1.0, 0, 0))
    assert record.task == "bev_seg" and 0.0 <= record.metrics["miou"] <= 1.0
    assert set(record.metrics["iou_at_max"]) == {"drivable_area", "ped_crossing", "walkway", "stop_line",
                                                 "carpark_area", "divider"}
    assert record.metrics["train_frames"] == 8 and record.metrics["eval_frames"] == 8
    assert record.provenance.resolved_config["backbone"] == ("camera" if method == "imagenet" else "lidar")
    assert ("weights" in record.metrics) == keep and record.provenance.resolved_config["protocol"].get(
        "keep_weights", False) == keep  # keeping joins the run id
    cli = CliRunner()
    out = tmp_path / "pred.png"
    shown = cli.invoke(app, ["show", "--dataroot", str(harness_release), "--results", str(store.root),
                             "--run", record.run_id, "--out", str(out)])
    if not keep:
        assert shown.exit_code == 1 and "--keep-weights" in shown.output and not out.exists()
        return
    assert shown.exit_code == 0, shown.output
    assert out.stat().st_size > 10_000
    from bench3d.datasets import resolve_dataset

    dataset = resolve_dataset("synth", harness_release)
    kept = load_kept_model(store, record.run_id, dataset)
    reader = dataset.open_reader()
    val = [t for q in reader.sequences() if q.name in {"scene-0103", "scene-0916"} for t in q.sample_tokens]
    evaluation = kept.task.load(reader, dataset, val, False, 0)
    scores = kept.task.evaluate(kept.model, evaluation, torch.device("cpu"), dataset)
    assert scores["miou"] == pytest.approx(record.metrics["miou"], abs=1e-9)
    token = first_eval_token(dataset)
    prediction = predict_frame(kept, dataset, token)
    assert prediction.token == token and prediction.bev_masks.shape == (6, 200, 200)
    assert prediction.bev_masks.dtype == bool and prediction.bev_classes[0] == "drivable_area"


def test_the_depth_oracle_is_the_nearest_lidar_point_per_feature_cell() -> None:
    from bench3d.models.bev.lss import lidar_depth_onehot

    k = torch.tensor([[100.0, 0.0, 103.5], [0.0, 100.0, 55.5], [0.0, 0.0, 1.0]])
    depths = depth_bins(1.0, 52.0, 2.0)  # bins 1, 3, 5, ...
    # Two points behind one another on the optical axis (image pixel 103.5, 55.5: feature cell (3, 6)),
    # one off to the side, one behind the camera.
    points = torch.tensor([[9.0, 0.0, 0.0, 1.0], [21.0, 0.0, 0.0, 1.0], [9.0, 3.0, 0.0, 1.0], [-5.0, 0.0, 0.0, 1.0]])
    onehot = lidar_depth_onehot(points, k[None], CAM_TO_LIDAR[None], (112, 208), (7, 13), 16, depths)
    assert onehot.shape == (1, len(depths), 7, 13) and onehot.sum(1).max() == 1
    assert onehot[0, 4, 3, 6] == 1  # the nearer point: 9 m -> bin centre 9
    u = 103.5 - 100 * 3.0 / 9.0  # the side point: left of centre
    assert onehot[0, 4, 3, int((u + 0.5) // 16)] == 1
    assert onehot.sum() == 2  # the point behind the camera lifts nothing


def test_bev_benchmark_reports_the_pooling_ratio_and_the_camera_step(tiny_release: Path) -> None:
    from bench3d.harness.bev_bench import camera_stack_step, compare_bev_pooling

    pooling = compare_bev_pooling(views=1, depth=4, hw=(3, 5), channels=8, cells=64, repeats=1)
    assert pooling["frustum_points"] == 60 and pooling["speedup"] > 0
    step = camera_stack_step(tiny_release, steps=1)
    assert step["step_time_median_s"] > 0 and step["batch"] >= 1 and step["image_hw"] == [56, 100]
