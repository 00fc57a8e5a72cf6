"""Split manifests built from a release's own scene table, class coverage, and the `splits` CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _mini_release import build_mini_release
from typer.testing import CliRunner

from bench3d.cli.main import app
from bench3d.data.nuscenes.tables import NuScenesTables
from bench3d.labels.nuscenes import EVAL_CLASSES, FINE_TO_EVAL
from bench3d.splits import catalog
from bench3d.splits.coverage import release_coverage

runner = CliRunner()
SCENES = tuple(f"scene-{i:04d}" for i in range(1, 13))


@pytest.fixture(scope="module")
def custom_release(tmp_path_factory):
    """12 scenes, table order shuffled, 10 of them in a splits.json train list."""
    order = [SCENES[i] for i in (5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6)]
    train = [n for n in SCENES if n not in ("scene-0004", "scene-0010")]
    return build_mini_release(
        tmp_path_factory.mktemp("custom") / "data", version="v1.0-synthetic", scene_names=tuple(order),
        samples_per_scene=2, custom_splits={"train": train, "val": ["scene-0004", "scene-0010"]},
    )  # fmt: skip


def test_release_manifests_follow_its_table_order(custom_release):
    built = catalog.build_release_set(custom_release.dataroot, custom_release.version)
    table_train = [n for n in custom_release.scene_names if n not in ("scene-0004", "scene-0010")]
    assert built["nuscenes_25pct_draw0"].ids == tuple(table_train[3::4])
    assert built["nuscenes_100pct_draw0"].ids == tuple(table_train)
    assert built["nuscenes_1pct_draw0"].ids == ()  # 10 train scenes: no 100th scene
    assert "nuscenes_slidr_verifying" not in built
    assert built["nuscenes_25pct_draw1"].ids and set(built["nuscenes_25pct_draw1"].ids) <= set(table_train)


def test_class_coverage_counts_points_of_the_manifest_scenes(custom_release):
    tables = NuScenesTables.load(custom_release.dataroot, custom_release.version)
    built = catalog.build_release_set(custom_release.dataroot, custom_release.version)
    rows = {r.name: r for r in release_coverage(tables, built)}
    full = rows["nuscenes_100pct_draw0"]
    expected = np.zeros(17, dtype=np.int64)
    for scene in built["nuscenes_100pct_draw0"].ids:
        for sample in custom_release.sample_tokens[scene]:
            lidar = custom_release.lidar_tokens[sample]
            fine = np.fromfile(custom_release.dataroot / f"lidarseg/v1.0-synthetic/{lidar}_lidarseg.bin", np.uint8)
            expected += np.bincount(FINE_TO_EVAL[fine], minlength=17)
    assert list(full.points_per_class.values()) == expected[1:].tolist()
    assert full.scenes == 10 and full.keyframes == 20
    assert rows["nuscenes_1pct_draw0"].missing_classes == list(EVAL_CLASSES[1:])


def test_cli_build_writes_manifests_and_reports(custom_release, tmp_path):
    result = runner.invoke(app, ["splits", "build", "--dataroot", str(custom_release.dataroot),
                                 "--version", custom_release.version, "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "differs" in result.output  # the shuffled table order changes SLidR's draw 0
    assert (tmp_path / "m" / "nuscenes_25pct_draw0.txt").is_file()


def test_cli_stats_list_and_show(custom_release, tmp_path):
    result = runner.invoke(app, ["splits", "stats", "--dataroot", str(custom_release.dataroot),
                                 "--version", custom_release.version, "--json", str(tmp_path / "c.json")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "nuscenes_100pct_draw0" in result.output and "driveable_surface" in result.output
    coverage = json.loads((tmp_path / "c.json").read_text())
    assert coverage["nuscenes_100pct_draw0"]["keyframes"] == 20
    listed = runner.invoke(app, ["splits", "list"])
    assert listed.exit_code == 0 and "semantickitti_1pct_draw0" in listed.output
    shown = runner.invoke(app, ["splits", "show", "nuscenes_1pct_draw0"])
    assert shown.exit_code == 0 and "scene-0171" in shown.output and "sha256" in shown.output
    unknown = runner.invoke(app, ["splits", "show", "nope"])
    assert unknown.exit_code == 1 and "unknown split manifest" in unknown.output


def test_cli_build_official_matches_shipped():
    result = runner.invoke(app, ["splits", "build", "--official"])
    assert result.exit_code == 0, result.output
    assert "differs" not in result.output


def test_release_without_train_list_is_a_data_error(tmp_path):
    build_mini_release(tmp_path / "data", version="v1.0-other", scene_names=("scene-x",))
    result = runner.invoke(app, ["splits", "build", "--dataroot", str(tmp_path / "data"), "--version", "v1.0-other"])
    assert result.exit_code == 1 and "splits.json" in result.output
    assert json.loads((tmp_path / "data" / "v1.0-other" / "scene.json").read_text())[0]["name"] == "scene-x"


def test_cli_build_semantickitti_from_a_scan_tree(tmp_path):
    for seq, count in ((0, 150), (9, 60), (8, 40)):  # 08 is validation: not part of the train pool
        folder = tmp_path / "sequences" / f"{seq:02d}" / "velodyne"
        folder.mkdir(parents=True)
        for i in range(count):
            (folder / f"{i:06d}.bin").touch()
    result = runner.invoke(app, ["splits", "build", "--dataset", "semantickitti", "--dataroot", str(tmp_path),
                                 "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 0, result.output
    from bench3d.splits.manifest import SplitManifest

    ids = SplitManifest.read(tmp_path / "m" / "semantickitti_1pct_draw0.txt").ids
    assert ids == ("sequences/00/velodyne/000000.bin", "sequences/00/velodyne/000100.bin",
                   "sequences/09/velodyne/000050.bin")  # fmt: skip


def test_cli_build_waymo_from_parquet_keys(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "training" / "lidar_segmentation"
    folder.mkdir(parents=True)
    for seg in ("b_seg", "a_seg"):
        stamps = list(range(1_000, 1_000 + 120))
        table = pa.table({"key.segment_context_name": [seg] * len(stamps), "key.frame_timestamp_micros": stamps})
        pq.write_table(table, folder / f"{seg}.parquet")
    result = runner.invoke(app, ["splits", "build", "--dataset", "waymo", "--dataroot", str(tmp_path),
                                 "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 0, result.output
    from bench3d.splits.manifest import SplitManifest

    ids = SplitManifest.read(tmp_path / "m" / "waymo_1pct_draw0.txt").ids
    assert ids == ("a_seg/1000", "a_seg/1100", "b_seg/1080")
