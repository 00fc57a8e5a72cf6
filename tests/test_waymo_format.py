"""The synthetic world written as Waymo v2 Parquet reads back as the same world: the same points (to float
precision), the same labels after mapping, the same poses and the same point-pixel projections as the nuScenes
and SemanticKITTI releases written from it; the writer never resamples; bad files name themselves."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.spatial import cKDTree

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.projection import point_pixel_pairs
from bench3d.data.reader import Reader
from bench3d.data.semantickitti import SemanticKittiReader
from bench3d.data.semantickitti.writer import write_semantickitti
from bench3d.data.waymo import WaymoReader
from bench3d.data.waymo import columns as col
from bench3d.data.waymo.writer import write_waymo
from bench3d.errors import ConfigError, DataError
from bench3d.labels import nuscenes as nus
from bench3d.labels import semantickitti as kitti
from bench3d.labels import waymo
from bench3d.synth.rig import LidarSpec

TRAIN, VAL = ["scene-0061", "scene-0553"], ["scene-0103", "scene-0916"]
LIDAR = LidarSpec()


@pytest.fixture(scope="module")
def waymo_release(harness_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_waymo(NuScenesReader(harness_release), tmp_path_factory.mktemp("waymo") / "release", TRAIN, VAL,
                       waymo.types_from_nuscenes_fine, LIDAR.elevations(), LIDAR.azimuth_steps)


def _laser_extrinsic(root: Path, split: str, segment: str) -> np.ndarray:
    row = pq.read_table(col.component_path(root, split, col.LIDAR_CALIBRATION, segment)).to_pylist()[0]
    return np.asarray(row[col.LIDAR_EXTRINSIC]).reshape(4, 4)


def _match(lidar_points: np.ndarray, waymo_laser_points: np.ndarray) -> np.ndarray:
    """Index of each nuScenes point's Waymo point (a bijection, every pair within float precision)."""
    dist, index = cKDTree(waymo_laser_points).query(lidar_points)
    assert dist.max() < 1e-4, dist.max()
    assert len(np.unique(index)) == len(index) == len(waymo_laser_points)
    return index


def test_segments_follow_the_split_folders(waymo_release: Path) -> None:
    reader = WaymoReader(waymo_release)
    assert isinstance(reader, Reader)
    assert [(s.name, s.split, len(s)) for s in reader.sequences()] == [
        ("scene-0061", "training", 4), ("scene-0553", "training", 4),
        ("scene-0103", "validation", 4), ("scene-0916", "validation", 4)]
    tokens = reader.sequences(["scene-0103"])[0].sample_tokens
    assert reader.neighbours(tokens[2], past=1, future=5) == list(tokens[1:])
    for tag in ("lidar", "lidar_calibration", "lidar_pose", "lidar_segmentation", "vehicle_pose", "camera_image",
                "camera_calibration", "stats"):
        assert (waymo_release / "validation" / tag / "scene-0916.parquet").is_file(), tag
    names = pq.read_schema(waymo_release / "training" / "lidar" / "scene-0061.parquet").names
    assert names == ["key.segment_context_name", "key.frame_timestamp_micros", "key.laser_name",
                     "[LiDARComponent].range_image_return1.values", "[LiDARComponent].range_image_return1.shape",
                     "[LiDARComponent].range_image_return2.values", "[LiDARComponent].range_image_return2.shape"]


def test_points_labels_and_poses_round_trip_through_all_three_formats(harness_release: Path, waymo_release: Path,
                                                                      tmp_path: Path) -> None:
    kitti_root = write_semantickitti(NuScenesReader(harness_release), tmp_path / "kitti", TRAIN, VAL,
                                     kitti.raw_from_nuscenes_fine)
    nusc, reader, kreader = NuScenesReader(harness_release), WaymoReader(waymo_release), SemanticKittiReader(kitti_root)
    scans = {"scene-0061": kreader.sequences(["00"])[0].sample_tokens,
             "scene-0103": kreader.sequences(["08"])[0].sample_tokens[:4]}
    labelled = 0
    for scene, split in (("scene-0061", "training"), ("scene-0103", "validation")):
        extrinsic = _laser_extrinsic(waymo_release, split, scene)
        laser_from_vehicle = np.linalg.inv(extrinsic)
        frames = []
        for token, wtoken, scan in zip(nusc.sequences([scene])[0].sample_tokens,
                                       reader.sequences([scene])[0].sample_tokens, scans[scene]):
            a, b = nusc.frame(token, cameras=None, boxes=False), reader.frame(wtoken, cameras=None)
            k = kreader.frame(scan, cameras=None)
            assert b.timestamp == a.timestamp and np.array_equal(b.lidar_to_ego, np.eye(4))
            laser = b.points[:, :3].astype(np.float64) @ laser_from_vehicle[:3, :3].T + laser_from_vehicle[:3, 3]
            index = _match(a.points[:, :3], laser)
            np.testing.assert_allclose(b.points[index, 3], a.points[:, 3], atol=1e-4)  # intensity, 0..255
            np.testing.assert_array_equal(b.labels[index], waymo.types_from_nuscenes_fine(a.labels))
            labelled += int((waymo.to_eval_ids(b.labels) > 0).sum())
            # The same world points: the vehicle frame differs from the ego frame, the world does not.
            world_a = a.ego_to_global @ a.lidar_to_ego
            world_b = b.ego_to_global @ extrinsic
            np.testing.assert_allclose(world_b, world_a, atol=1e-6)
            # SemanticKITTI holds the same points in the laser frame, in the same order as nuScenes.
            np.testing.assert_allclose(laser[index], k.points[:, :3], atol=1e-4)
            frames.append((b, k))
        # Relative LiDAR poses agree between the Waymo and SemanticKITTI readers.
        for b, k in frames[1:]:
            rel_w = laser_from_vehicle @ np.linalg.inv(frames[0][0].ego_to_global) @ b.ego_to_global @ extrinsic
            np.testing.assert_allclose(rel_w, np.linalg.inv(frames[0][1].ego_to_global) @ k.ego_to_global, atol=1e-6)
    assert labelled > 1000


def test_cameras_project_points_where_the_nuscenes_cameras_do(harness_release: Path, waymo_release: Path) -> None:
    nusc, reader = NuScenesReader(harness_release), WaymoReader(waymo_release)
    extrinsic = _laser_extrinsic(waymo_release, "training", "scene-0553")
    laser_from_vehicle = np.linalg.inv(extrinsic)
    pairs = zip(nusc.sequences(["scene-0553"])[0].sample_tokens, reader.sequences(["scene-0553"])[0].sample_tokens)
    for token, wtoken in list(pairs)[::2]:
        a = nusc.frame(token, cameras=("CAM_FRONT", "CAM_BACK_LEFT"), labels=False, boxes=False)
        b = reader.frame(wtoken, cameras=("FRONT", "SIDE_LEFT"), labels=False)
        assert list(b.cameras) == ["FRONT", "SIDE_LEFT"]
        laser = b.points[:, :3].astype(np.float64) @ laser_from_vehicle[:3, :3].T + laser_from_vehicle[:3, 3]
        index = _match(a.points[:, :3], laser)
        for nus_cam, waymo_cam in (("CAM_FRONT", "FRONT"), ("CAM_BACK_LEFT", "SIDE_LEFT")):
            ref = point_pixel_pairs(dataclasses.replace(a, cameras={nus_cam: a.cameras[nus_cam]}))
            got = point_pixel_pairs(dataclasses.replace(b, cameras={waymo_cam: b.cameras[waymo_cam]}))
            assert len(ref.point_index) > 100
            np.testing.assert_array_equal(np.sort(got.point_index), np.sort(index[ref.point_index]))
            order = np.argsort(got.point_index)
            np.testing.assert_allclose(got.uv[order], ref.uv[np.argsort(index[ref.point_index])], atol=1e-3)
            assert b.cameras[waymo_cam].timestamp == a.cameras[nus_cam].timestamp
            # JPEG again: the pixels are close, not equal.
            diff = np.abs(b.cameras[waymo_cam].image.astype(int) - a.cameras[nus_cam].image.astype(int))
            assert diff.mean() < 4


def test_label_map_covers_every_class_the_world_writes(harness_release: Path) -> None:
    assert set(waymo.FROM_NUSCENES_FINE) == set(nus.FINE_CLASSES)
    nusc = NuScenesReader(harness_release)
    seen = set()
    for seq in nusc.sequences():
        for token in seq.sample_tokens:
            seen |= set(np.unique(nusc.frame(token, cameras=None, boxes=False).labels).tolist())
    unmatched = {nus.FINE_CLASSES[i] for i in seen if waymo.types_from_nuscenes_fine(np.array([i]))[0] == 0}
    assert unmatched <= {"noise", "animal", "movable_object.barrier", "movable_object.debris",
                         "movable_object.pushable_pullable", "static_object.bicycle_rack", "static.other", "vehicle.ego"}
    assert len(seen) >= 10


def test_the_writer_refuses_to_resample(harness_release: Path, tmp_path: Path) -> None:
    nusc = NuScenesReader(harness_release)
    with pytest.raises(ConfigError, match="not on a grid of 1000 azimuth columns"):
        write_waymo(nusc, tmp_path / "a", TRAIN, VAL, waymo.types_from_nuscenes_fine, LIDAR.elevations(), 1000)
    with pytest.raises(ConfigError, match="not one of the 32 beam inclinations"):
        write_waymo(nusc, tmp_path / "b", TRAIN, VAL, waymo.types_from_nuscenes_fine, LIDAR.elevations() + 0.005,
                    LIDAR.azimuth_steps)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_bad_files_name_the_file(waymo_release: Path, tmp_path: Path) -> None:
    import pyarrow as pa

    broken = tmp_path / "broken"
    shutil.copytree(waymo_release, broken)
    path = broken / "training" / "lidar" / "scene-0061.parquet"
    table = pq.read_table(path)
    values = "[LiDARComponent].range_image_return1.values"
    cut = pa.array([v[:-3] for v in table.column(values).to_pylist()], type=table.schema.field(values).type)
    pq.write_table(table.set_column(table.schema.get_field_index(values), values, cut), path)
    reader = WaymoReader(broken)
    token = reader.sequences(["scene-0061"])[0].sample_tokens[0]
    with pytest.raises(DataError, match=r"lidar/scene-0061\.parquet: holds \d+ values for an image of shape"):
        reader.frame(token)
    (broken / "training" / "vehicle_pose" / "scene-0553.parquet").unlink()
    with pytest.raises(DataError, match=r"vehicle_pose/scene-0553\.parquet: is missing"):
        reader.frame(reader.sequences(["scene-0553"])[0].sample_tokens[0])
    with pytest.raises(DataError, match="not a Waymo frame token"):
        reader.frame("scene-0061")
    with pytest.raises(DataError, match="holds no segment"):
        WaymoReader(tmp_path / "empty")


def test_one_percent_is_every_hundredth_labelled_training_frame(waymo_release: Path) -> None:
    from bench3d.datasets import resolve_dataset
    from bench3d.harness.label_split import label_split

    ds = resolve_dataset("synth-waymo", waymo_release)
    assert ds.split_scenes("training") == TRAIN and ds.split_scenes("validation") == ["scene-0103", "scene-0916"]
    reader = ds.open_reader()
    tokens, sha = label_split(reader, ds, 0.01, 0)
    assert tokens == [reader.sequences(["scene-0061"])[0].sample_tokens[0]]  # sorted by (segment, time), [0::100]
    other, _ = label_split(reader, ds, 0.01, 1)
    assert other == [] and label_split(reader, ds, 1.0, 0)[0] == [
        t for s in TRAIN for t in reader.sequences([s])[0].sample_tokens]


def test_synth_writes_waymo_and_a_nuscenes_pretraining_finetunes_on_it(harness_release: Path, short_cards: Path,
                                                                       tmp_path: Path) -> None:
    from _cards import using_cards
    from typer.testing import CliRunner

    from bench3d.cli.main import app
    from bench3d.harness.matrix import expand_matrix
    from bench3d.harness.runner import Runner
    from bench3d.reports.comparison import write_comparison
    from bench3d.results import ResultsStore

    out = tmp_path / "waymo"
    result = CliRunner().invoke(app, ["synth", "--out", str(out), "--format", "waymo", "--scenes", "4",
                                      "--samples-per-scene", "2", "--image-size", "28x50", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the nuScenes source is gone
    assert len(WaymoReader(out).sequences()) == 4
    with using_cards(short_cards):
        runner = Runner(ResultsStore(tmp_path / "store"), "cpu", out, dataroots={"synth": str(harness_release)})
        (spec,) = expand_matrix(["scalr"], ["finetune"], "synth-waymo", fractions=[0.01], draws=[0], seeds=[0],
                                pretrained_on="synth")
        record = runner.evaluate(spec)
        home = Runner(runner.store, "cpu", harness_release).evaluate(
            expand_matrix(["scalr"], ["finetune"], "synth", fractions=[0.01], draws=[0], seeds=[0])[0])
    assert home.checkpoint == record.checkpoint  # one pretraining serves both datasets
    assert record.dataset == "synth-waymo" and runner.store.read(record.checkpoint).dataset == "synth"
    config = record.provenance.resolved_config
    assert config["pretrained_on"] == "synth" and config["dataset"]["reducer"] == "waymo"
    assert record.metrics["reducer"] == "waymo" and record.metrics["train_frames"] == 1
    assert len(record.metrics["confusion_matrix"]) == len(waymo.SEGMENTATION_CLASSES)
    _, md = write_comparison(tmp_path / "store", "synth", tmp_path / "reports", [], "lidar_semseg",
                             transfer=["synth-waymo"])
    header = next(line for line in md.splitlines() if line.startswith("| method"))
    assert header.split(" | ")[1:] == ["FT 1%", "Waymo FT 1% |"]
    assert f"{100 * record.metrics['miou']:.2f}" in md


def test_reader_speed_is_measured_against_a_plain_read(waymo_release: Path) -> None:
    from bench3d.data.waymo.bench import compare_waymo_speed

    result = compare_waymo_speed(waymo_release, n_frames=4, repeats=1)
    assert result["frames"] == 4 and result["points_per_frame"] > 1000
    assert 0 < result["bench3d_time_over_plain"] < float("inf")
