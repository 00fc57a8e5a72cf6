"""Split manifests: SLidR's rule and sizes, nesting, random draws, KITTI 1 %, hashing and tamper detection."""

from __future__ import annotations

import pytest

from bench3d.errors import DataError, UnknownNameError
from bench3d.labels.semantickitti import SCANS_PER_SEQUENCE
from bench3d.splits import catalog
from bench3d.splits import nuscenes as nus
from bench3d.splits import semantickitti as kitti
from bench3d.splits import waymo
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.rules import draw_seed, keep_every_kth_counting_from_one, stride

OFFICIAL_TRAIN = catalog.predefined_splits()["train"]


def test_slidr_rule_counts_from_one():
    assert keep_every_kth_counting_from_one(list("abcdefgh"), 3) == ["c", "f"]
    assert stride(list("abcdefgh"), 3) == ["a", "d", "g"]


@pytest.mark.parametrize(("fraction", "scenes"), [(0.01, 7), (0.05, 35), (0.10, 70), (0.25, 175), (1.0, 700)])
def test_nuscenes_sizes_on_the_official_train_list(fraction, scenes):
    manifest = nus.nuscenes_manifest(OFFICIAL_TRAIN, OFFICIAL_TRAIN, fraction, 0, "test")
    assert len(manifest.ids) == scenes
    for draw in (1, 2):
        assert len(nus.nuscenes_manifest(OFFICIAL_TRAIN, OFFICIAL_TRAIN, fraction, draw, "test").ids) == scenes


def test_nuscenes_draw0_follows_scene_table_order_and_skips_non_train_scenes():
    table = ["scene-9", "val-1", "scene-3", "scene-1", "val-2", "scene-7"]
    train = ["scene-1", "scene-3", "scene-7", "scene-9"]
    assert nus.slidr_scenes(table, train, 0.25) == ["scene-7"]  # 4th train scene in table order
    assert nus.slidr_scenes(sorted(table), train, 0.25) == ["scene-9"]


def test_nuscenes_1pct_scenes_in_name_order():
    ids = nus.nuscenes_manifest(OFFICIAL_TRAIN, OFFICIAL_TRAIN, 0.01, 0, "test").ids
    assert ids == ("scene-0171", "scene-0300", "scene-0435", "scene-0589", "scene-0747", "scene-0959", "scene-1110")


def test_nuscenes_draw0_nesting():
    def scenes(fraction: float) -> set[str]:
        return set(nus.slidr_scenes(OFFICIAL_TRAIN, OFFICIAL_TRAIN, fraction))

    assert scenes(0.01) < scenes(0.05) < scenes(0.10) < scenes(1.0)
    assert scenes(0.05) < scenes(0.25)
    assert not scenes(0.10) <= scenes(0.25)  # as in SLidR: 10 % is not inside 25 %


def test_random_draws_differ_are_stable_and_stay_in_train():
    one = nus.random_scenes(OFFICIAL_TRAIN, 35, 0.05, 1)
    assert one == nus.random_scenes(list(reversed(OFFICIAL_TRAIN)), 35, 0.05, 1)  # independent of order
    assert one != nus.random_scenes(OFFICIAL_TRAIN, 35, 0.05, 2)
    assert set(one) <= set(OFFICIAL_TRAIN) and len(set(one)) == 35
    assert draw_seed("nuscenes", 0.05, 1) == draw_seed("nuscenes", 0.05, 1) != draw_seed("nuscenes", 0.05, 2)
    with pytest.raises(ValueError, match="draw 0"):
        nus.random_scenes(OFFICIAL_TRAIN, 7, 0.01, 0)


def test_slidr_heldout_scenes():
    assert len(nus.SLIDR_HELDOUT_SCENES) == 100 == len(set(nus.SLIDR_HELDOUT_SCENES))
    pair = nus.slidr_heldout_manifests(OFFICIAL_TRAIN, "test")
    verifying, parametrizing = pair["nuscenes_slidr_verifying"], pair["nuscenes_slidr_parametrizing"]
    assert len(verifying.ids) == 100 and len(parametrizing.ids) == 600
    assert set(verifying.ids) | set(parametrizing.ids) == set(OFFICIAL_TRAIN)


def fake_kitti_paths() -> list[str]:
    return kitti.scan_paths(SCANS_PER_SEQUENCE)  # 19,130 paths with the real per-sequence counts


def test_semantickitti_1pct_is_192_scans():
    paths = fake_kitti_paths()
    assert len(paths) == 19130
    manifest = kitti.semantickitti_manifest(paths, 0.01, 0, "test")
    assert len(manifest.ids) == 192
    assert manifest.ids[0] == "sequences/00/velodyne/000000.bin"
    assert manifest.ids[46] == "sequences/01/velodyne/000059.bin"  # 4541 scans in 00: index 4600 is 01/000059
    assert manifest.ids == tuple(sorted(paths)[::100])
    shuffled = kitti.semantickitti_manifest(list(reversed(paths)), 0.01, 0, "test")
    assert shuffled.ids == manifest.ids  # the rule sorts the full paths itself


def test_semantickitti_draws_shift_the_stride():
    paths = fake_kitti_paths()
    draws = [kitti.semantickitti_manifest(paths, 0.01, d, "test").ids for d in range(3)]
    assert len({d[0] for d in draws}) == 3
    assert all(len(d) in (191, 192) for d in draws)


def test_waymo_every_100th_sorted_frame():
    frames = [(f"seg{s}", 1000 + t) for s in range(5) for t in reversed(range(198))]
    manifest = waymo.waymo_manifest(frames, 0.01, "test")
    assert len(manifest.ids) == 10
    assert manifest.ids[:3] == ("seg0/1000", "seg0/1100", "seg1/1002")


def test_manifest_round_trip_and_hash_is_of_the_body(tmp_path):
    manifest = nus.nuscenes_manifest(OFFICIAL_TRAIN, OFFICIAL_TRAIN, 0.01, 0, "test")
    path = manifest.write(tmp_path / "m.txt")
    text = path.read_text()
    assert text.startswith("# dataset: nuscenes\n")
    for key in ("# rule: ", "# fraction: 0.01", "# draw: 0", "# version: 1.0", f"# sha256: {manifest.sha256}"):
        assert key in text
    assert SplitManifest.read(path) == manifest
    rebuilt = nus.nuscenes_manifest(OFFICIAL_TRAIN, OFFICIAL_TRAIN, 0.01, 0, "test")
    assert rebuilt.sha256 == manifest.sha256 == "28ddd1cf70f0acc9d225efdd01a8addb6fac9102e67bf0a3d65661b6561cfd15"


def test_tampered_manifest_fails_naming_its_path(tmp_path):
    path = nus.nuscenes_manifest(OFFICIAL_TRAIN, OFFICIAL_TRAIN, 0.01, 0, "test").write(tmp_path / "m.txt")
    path.write_text(path.read_text().replace("scene-0300", "scene-0301"))
    with pytest.raises(DataError, match="m.txt.*sha256"):
        SplitManifest.read(path)
    path.write_text("scene-0001\n")
    with pytest.raises(DataError, match="header lacks"):
        SplitManifest.read(path)


def test_manifest_rejects_bad_ids():
    with pytest.raises(ValueError, match="repeats"):
        SplitManifest("nuscenes", "r", 0.01, 0, ("a", "a"))
    with pytest.raises(ValueError, match="starts with"):
        SplitManifest("nuscenes", "r", 0.01, 0, ("#a",))


def test_shipped_manifests_are_exactly_what_the_builder_makes():
    built = catalog.build_official_set()
    assert sorted(built) == catalog.shipped_names()
    for name, manifest in built.items():
        assert catalog.load_shipped(name) == manifest, name
    assert all(d.status == "same" for d in catalog.compare_with_shipped(built))


def test_compare_reports_a_different_scene_table_order():
    table = list(reversed(OFFICIAL_TRAIN))
    built = catalog.build_nuscenes_set(table, OFFICIAL_TRAIN, "reversed table")
    diffs = {d.name: d for d in catalog.compare_with_shipped(built)}
    assert diffs["nuscenes_1pct_draw0"].status == "differs" and diffs["nuscenes_1pct_draw0"].only_built
    assert diffs["nuscenes_1pct_draw1"].status == "same"  # random draws do not depend on table order
    assert diffs["nuscenes_100pct_draw0"].order_differs


def test_unknown_shipped_name_lists_known_ones():
    with pytest.raises(UnknownNameError, match="nuscenes_1pct_draw0"):
        catalog.load_shipped("nuscenes_2pct")
