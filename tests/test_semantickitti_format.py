"""The synthetic world written as SemanticKITTI reads back as the same world: the same points (to float
precision), the same labels after mapping, the same relative poses and the same point-pixel pairs as the
nuScenes-format release it was written from; the standard split rule applies to its sequence numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.projection import point_pixel_pairs
from bench3d.data.semantickitti import SemanticKittiReader
from bench3d.data.semantickitti.writer import write_semantickitti
from bench3d.errors import ConfigError, DataError
from bench3d.labels import nuscenes as nus
from bench3d.labels import semantickitti as kitti

TRAIN, VAL = ["scene-0061", "scene-0553"], ["scene-0103", "scene-0916"]


@pytest.fixture(scope="module")
def kitti_release(harness_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_semantickitti(NuScenesReader(harness_release), tmp_path_factory.mktemp("kitti") / "release",
                               TRAIN, VAL, kitti.raw_from_nuscenes_fine)


def _pairs(release: Path, kitti_root: Path):
    nusc, reader = NuScenesReader(release), SemanticKittiReader(kitti_root)
    order = [(s, t) for s in TRAIN + VAL for t in nusc.sequences([s])[0].sample_tokens]
    scans = [t for seq in reader.sequences() for t in seq.sample_tokens]
    return nusc, reader, order, scans


def test_sequences_follow_the_standard_split_rule(kitti_release: Path) -> None:
    reader = SemanticKittiReader(kitti_release)
    assert [s.name for s in reader.sequences()] == ["00", "01", "08"]
    assert [len(s) for s in reader.sequences()] == [4, 4, 8]  # both validation scenes in 08, one after another
    times = (kitti_release / "sequences" / "08" / "times.txt").read_text().split()
    assert np.all(np.diff([float(t) for t in times]) > 0)
    assert reader.neighbours("08/000002", past=1, future=1) == ["08/000001", "08/000002", "08/000003"]


def test_points_labels_and_poses_round_trip(harness_release: Path, kitti_release: Path) -> None:
    nusc, reader, order, scans = _pairs(harness_release, kitti_release)
    assert len(order) == len(scans) == 16
    checked = 0
    for (scene, token), scan in zip(order, scans):
        a = nusc.frame(token, cameras=None, boxes=False)
        b = reader.frame(scan, cameras=None)
        np.testing.assert_array_equal(b.points[:, :3], a.points[:, :3])
        np.testing.assert_allclose(b.points[:, 3], a.points[:, 3], rtol=1e-6, atol=1e-4)
        np.testing.assert_array_equal(kitti.raw_to_train(b.labels), kitti.raw_to_train(
            kitti.raw_from_nuscenes_fine(a.labels)))
        checked += int((kitti.raw_to_train(b.labels) > 0).sum())
    assert checked > 1000
    # Relative LiDAR poses between any two scans of a scene agree.
    for seq_scans, scene in ((scans[:4], TRAIN[0]), (scans[8:12], VAL[0]), (scans[12:], VAL[1])):
        tokens = nusc.sequences([scene])[0].sample_tokens
        na = [nusc.frame(t, cameras=None, labels=False, boxes=False) for t in tokens]
        ka = [reader.frame(s, cameras=None, labels=False) for s in seq_scans]
        for i in (1, 2, 3):
            rel_n = np.linalg.inv(na[0].ego_to_global @ na[0].lidar_to_ego) @ na[i].ego_to_global @ na[i].lidar_to_ego
            rel_k = np.linalg.inv(ka[0].ego_to_global) @ ka[i].ego_to_global
            np.testing.assert_allclose(rel_k, rel_n, atol=1e-6)


def test_camera_2_projects_points_where_the_front_camera_does(harness_release: Path, kitti_release: Path) -> None:
    nusc, reader, order, scans = _pairs(harness_release, kitti_release)
    for (_, token), scan in list(zip(order, scans))[::5]:
        a = nusc.frame(token, cameras=("CAM_FRONT",), labels=False, boxes=False)
        # KITTI is synchronised: the reference projection uses the LiDAR's ego pose for the camera too.
        view = dataclasses.replace(a.cameras["CAM_FRONT"], ego_to_global=a.ego_to_global)
        ref = point_pixel_pairs(dataclasses.replace(a, cameras={"CAM_FRONT": view}))
        got = point_pixel_pairs(reader.frame(scan, labels=False))
        np.testing.assert_array_equal(got.point_index, ref.point_index)
        np.testing.assert_allclose(got.uv, ref.uv, atol=1e-3)
        assert len(got.point_index) > 100
        assert np.array_equal(reader.frame(scan).cameras["image_2"].image, view.image)


def test_label_map_covers_every_class_the_world_writes(harness_release: Path) -> None:
    assert set(kitti.FROM_NUSCENES_FINE) == set(nus.FINE_CLASSES)
    assert set(kitti.FROM_NUSCENES_FINE.values()) <= set(kitti.RAW_LABELS)
    nusc = NuScenesReader(harness_release)
    seen = set()
    for seq in nusc.sequences():
        for token in seq.sample_tokens:
            seen |= set(np.unique(nusc.frame(token, cameras=None, boxes=False).labels).tolist())
    # Every class that occurs maps to an evaluated SemanticKITTI class, but the ones with no counterpart.
    unmatched = {nus.FINE_CLASSES[i] for i in seen
                 if kitti.raw_to_train(kitti.raw_from_nuscenes_fine(np.array([i])))[0] == 0}
    assert unmatched <= {"noise", "movable_object.trafficcone", "static.other", "vehicle.ego",
                         "movable_object.pushable_pullable", "movable_object.debris", "static_object.bicycle_rack"}
    assert len(seen) >= 10


def test_bad_files_name_the_file(kitti_release: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(kitti_release, broken)
    scan = broken / "sequences" / "00" / "velodyne" / "000001.bin"
    scan.write_bytes(scan.read_bytes()[:-4])
    with pytest.raises(DataError, match=r"000001\.bin: holds .* not a multiple of 4"):
        SemanticKittiReader(broken).frame("00/000001")
    label = broken / "sequences" / "00" / "labels" / "000002.label"
    label.write_bytes(label.read_bytes()[:-4])
    with pytest.raises(DataError, match=r"000002\.label: holds \d+ labels for a scan of \d+ points"):
        SemanticKittiReader(broken).frame("00/000002")
    with pytest.raises(DataError, match="not a SemanticKITTI scan token"):
        SemanticKittiReader(broken).frame("scene-0061")
    with pytest.raises(ConfigError, match="not empty"):
        write_semantickitti(NuScenesReader.__new__(NuScenesReader), broken, TRAIN, VAL, kitti.raw_from_nuscenes_fine)


def test_synth_writes_semantickitti_and_the_official_convention_scores_it(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from bench3d.cli.main import app
    from bench3d.metrics.semantickitti_eval import evaluate_semantickitti_predictions

    out = tmp_path / "kitti"
    result = CliRunner().invoke(app, ["synth", "--out", str(out), "--format", "semantickitti", "--scenes", "10",
                                      "--samples-per-scene", "2", "--image-size", "28x50", "--lidar-beams", "64",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the nuScenes source is gone
    reader = SemanticKittiReader(out)
    assert [s.name for s in reader.sequences()] == ["00", "01", "02", "03", "04", "05", "06", "07", "08"]
    # Perfect predictions (the ground truth, in raw ids) score IoU 1 for every class that occurs in 08 and 0 for
    # the others: the mIoU is the share of the 19 classes present, as evaluate_semantics.py computes it.
    pred = tmp_path / "pred" / "sequences" / "08" / "predictions"
    shutil.copytree(out / "sequences" / "08" / "labels", pred)
    present = set()
    for token in reader.sequences(["08"])[0].sample_tokens:
        present |= set(kitti.raw_to_train(reader.frame(token, cameras=None).labels).tolist()) - {0}
    scores = evaluate_semantickitti_predictions(out, tmp_path / "pred").scores
    assert scores.miou == pytest.approx(len(present) / 19) and len(present) >= 8
    # 64 beams: more points per scan than the default 32.
    assert reader.frame("00/000000", cameras=None).num_points > 20000


def test_pretrain_on_nuscenes_format_and_finetune_on_semantickitti(harness_release: Path, kitti_release: Path,
                                                                    short_cards: Path, tmp_path: Path) -> None:
    from _cards import using_cards

    from bench3d.harness.matrix import expand_matrix
    from bench3d.harness.runner import Runner
    from bench3d.results import ResultsStore

    with using_cards(short_cards):
        runner = Runner(ResultsStore(tmp_path / "store"), "cpu", kitti_release,
                        dataroots={"synth": str(harness_release)})
        (spec,) = expand_matrix(["scalr"], ["finetune"], "synth-semantickitti", fractions=[0.01], draws=[0],
                                seeds=[0], pretrained_on="synth")
        record = runner.evaluate(spec)
        pretraining = runner.store.read(record.checkpoint)
        assert pretraining.dataset == "synth" and record.dataset == "synth-semantickitti"
        config = record.provenance.resolved_config
        assert config["pretrained_on"] == "synth" and config["dataset"]["reducer"] == "semantickitti"
        assert record.metrics["reducer"] == "semantickitti" and len(record.metrics["confusion_matrix"]) == 20
        assert record.metrics["train_frames"] == 1  # SemanticKITTI's 1 % rule: every 100th train scan, from the first
        # The comparison table on the pretraining dataset gets the transfer column, published values beside it.
        from bench3d.reports.comparison import write_comparison

        runner_nus = Runner(runner.store, "cpu", harness_release)
        home = runner_nus.evaluate(expand_matrix(["scalr"], ["finetune"], "synth", fractions=[0.01], draws=[0],
                                                 seeds=[0])[0])
        assert home.checkpoint == record.checkpoint  # one pretraining serves both datasets
        _, md = write_comparison(tmp_path / "store", "synth", tmp_path / "reports", ["ScaLR"], "lidar_semseg",
                                 transfer=["synth-semantickitti"])
        header = next(line for line in md.splitlines() if line.startswith("| method"))
        assert header.split(" | ")[1:] == ["FT 1%", "KITTI FT 1% |"]
        assert f"{100 * record.metrics['miou']:.2f}" in md and "| ScaLR (ViT-S) |" in md
        # Naming the run's own dataset is the ordinary same-dataset spec (same run id as without it).
        own = expand_matrix(["scalr"], ["finetune"], "synth-semantickitti", fractions=[0.01], draws=[0], seeds=[0],
                            pretrained_on="synth-semantickitti")
        assert own == expand_matrix(["scalr"], ["finetune"], "synth-semantickitti", fractions=[0.01], draws=[0],
                                    seeds=[0])


def test_reader_speed_is_measured_against_a_plain_numpy_read(kitti_release: Path) -> None:
    from bench3d.data.semantickitti.bench import compare_scan_speed

    result = compare_scan_speed(kitti_release, n_scans=4, repeats=1)
    assert result["scans"] == 4 and result["points_per_scan"] > 1000
    assert 0 < result["bench3d_time_over_numpy"] < float("inf")


def test_every_label_space_maps_every_world_class() -> None:
    from bench3d.labels import waymo
    from bench3d.labels.spaces import LABEL_SPACES

    assert set(waymo.FROM_NUSCENES_FINE) == set(nus.FINE_CLASSES)
    fine = np.arange(len(nus.FINE_CLASSES))
    worlds = {"nuscenes": fine, "semantickitti": kitti.raw_from_nuscenes_fine(fine),
              "waymo": waymo.types_from_nuscenes_fine(fine)}
    for name, raw in worlds.items():
        space = LABEL_SPACES[name]
        ids = space.to_eval(raw)
        assert ids.min() >= 0 and ids.max() <= space.num_classes
        # The classes every driving scene has are evaluated (not ignored) in every space.
        for cls in ("vehicle.car", "human.pedestrian.adult", "flat.driveable_surface", "flat.sidewalk",
                    "static.vegetation", "static.manmade"):
            assert ids[nus.FINE_INDEX[cls]] != space.ignore_index, (name, cls)
