"""The synthetic release is a real nuScenes release: the official devkit loads, links and evaluates it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from nuscenes.utils.data_classes import LidarPointCloud
from nuscenes.utils.splits import create_splits_scenes

from bench3d.labels.nuscenes import FINE_CLASSES, fine_to_eval
from bench3d.synth.rig import ALL_CHANNELS, CAMERA_CHANNELS

TABLES = ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
          "scene", "sample", "sample_data", "sample_annotation", "map", "lidarseg")


def test_all_tables_and_folders_exist(tiny_release: Path):
    for t in TABLES:
        assert (tiny_release / "v1.0-mini" / f"{t}.json").is_file(), t
    for d in ("samples", "sweeps", "maps", "lidarseg/v1.0-mini"):
        assert (tiny_release / d).is_dir(), d
    splits = json.loads((tiny_release / "v1.0-mini" / "splits.json").read_text())
    assert splits["val"] == ["scene-0103", "scene-0916"] and splits["train"] == []


def test_scene_names_form_mini_val(tiny_nusc):
    names = [s["name"] for s in tiny_nusc.scene]
    assert names == sorted(create_splits_scenes()["mini_val"])


def test_categories_sensors_attributes(tiny_nusc):
    assert [c["name"] for c in sorted(tiny_nusc.category, key=lambda c: c["index"])] == list(FINE_CLASSES)
    assert {s["channel"] for s in tiny_nusc.sensor} == set(ALL_CHANNELS)
    assert len(tiny_nusc.attribute) == 8
    assert sorted(v["token"] for v in tiny_nusc.visibility) == ["1", "2", "3", "4"]
    assert len(tiny_nusc.calibrated_sensor) == 12 * len(tiny_nusc.scene)


def test_get_sample_data_lidar_and_cameras(tiny_nusc):
    sample = tiny_nusc.sample[0]
    path, boxes, k = tiny_nusc.get_sample_data(sample["data"]["LIDAR_TOP"])
    assert Path(path).is_file() and k is None and len(boxes) > 0
    for ch in CAMERA_CHANNELS:
        path, boxes, k = tiny_nusc.get_sample_data(sample["data"][ch])
        assert Path(path).is_file() and k.shape == (3, 3)
    assert any(len(tiny_nusc.get_sample_data(sample["data"][ch])[1]) for ch in CAMERA_CHANNELS)


def test_point_and_label_counts_agree(tiny_nusc, tiny_release: Path):
    for sample in tiny_nusc.sample:
        sd = sample["data"]["LIDAR_TOP"]
        pc = LidarPointCloud.from_file(tiny_nusc.get_sample_data_path(sd))
        labels = np.fromfile(tiny_release / tiny_nusc.get("lidarseg", sd)["filename"], dtype=np.uint8)
        assert pc.points.shape[1] == labels.size > 10_000
        assert labels.max() < len(FINE_CLASSES) and not np.any(labels == FINE_CLASSES.index("vehicle.ego"))
        raw = np.fromfile(tiny_nusc.get_sample_data_path(sd), dtype=np.float32).reshape(-1, 5)
        assert set(np.unique(raw[:, 4])) <= set(range(32))  # ring index


def test_devkit_lidarseg_stats_match_bincount(tiny_nusc, tiny_release: Path, capsys):
    sample = tiny_nusc.sample[0]
    sd = sample["data"]["LIDAR_TOP"]
    labels = np.fromfile(tiny_release / tiny_nusc.get("lidarseg", sd)["filename"], dtype=np.uint8)
    tiny_nusc.get_sample_lidarseg_stats(sample["token"], sort_by="index")
    printed = capsys.readouterr().out
    counts = np.bincount(labels, minlength=len(FINE_CLASSES))
    for idx, name in enumerate(FINE_CLASSES):
        m = re.search(rf"^\s*{idx}\s+{re.escape(name)}\s+n=\s*([\d,]+)", printed, re.M)
        assert (int(m.group(1).replace(",", "")) if m else 0) == counts[idx], name


def test_linked_lists_and_keyframes(tiny_nusc):
    for scene in tiny_nusc.scene:
        tokens, tok = [], scene["first_sample_token"]
        while tok:
            tokens.append(tok)
            tok = tiny_nusc.get("sample", tok)["next"]
        assert len(tokens) == scene["nbr_samples"] and tokens[-1] == scene["last_sample_token"]
    sample_ts = {s["token"]: s["timestamp"] for s in tiny_nusc.sample}
    for sd in tiny_nusc.sample_data:
        assert tiny_nusc.get("ego_pose", sd["token"])["timestamp"] == sd["timestamp"]
        if sd["next"]:
            nxt = tiny_nusc.get("sample_data", sd["next"])
            assert nxt["prev"] == sd["token"] and nxt["channel"] == sd["channel"] and nxt["timestamp"] > sd["timestamp"]
        if sd["is_key_frame"]:  # all keyframe sensors fire within a few ms of the sample
            assert abs(sd["timestamp"] - sample_ts[sd["sample_token"]]) < 10_000
        else:  # sweeps point to the following sample
            assert sample_ts[sd["sample_token"]] > sd["timestamp"]
        folder = "samples" if sd["is_key_frame"] else "sweeps"
        assert sd["filename"].startswith(f"{folder}/{sd['channel']}/n00")
        assert sd["filename"].split("__")[-1].split(".")[0] == str(sd["timestamp"])
    for sample in tiny_nusc.sample:
        assert set(sample["data"]) == {"LIDAR_TOP", *CAMERA_CHANNELS}


def test_annotations_tracks_and_attributes(tiny_nusc):
    for inst in tiny_nusc.instance:
        anns, tok = [], inst["first_annotation_token"]
        while tok:
            anns.append(tiny_nusc.get("sample_annotation", tok))
            tok = anns[-1]["next"]
        assert len(anns) == inst["nbr_annotations"] and anns[-1]["token"] == inst["last_annotation_token"]
    for ann in tiny_nusc.sample_annotation:
        assert ann["num_lidar_pts"] > 0 and ann["num_radar_pts"] == 0 and ann["visibility_token"] in "1234"
        attrs = [tiny_nusc.get("attribute", t)["name"] for t in ann["attribute_tokens"]]
        cat = ann["category_name"]
        if cat.startswith("movable_object"):
            assert attrs == []
        else:
            prefix = "pedestrian" if cat.startswith("human") else "cycle" if cat in (
                "vehicle.bicycle", "vehicle.motorcycle") else "vehicle"
            assert len(attrs) == 1 and attrs[0].startswith(prefix), (cat, attrs)
        assert min(ann["size"]) > 0 and abs(np.linalg.norm(ann["rotation"]) - 1) < 1e-6


def test_map_png_is_a_real_image(tiny_nusc, tiny_release: Path):
    from PIL import Image

    for rec in tiny_nusc.map:
        with Image.open(tiny_release / rec["filename"]) as im:
            assert im.format == "PNG" and im.size[0] > 1000
    for scene in tiny_nusc.scene:
        mask = tiny_nusc.get("map", tiny_nusc.get("log", scene["log_token"])["map_token"])["mask"]
        sample = tiny_nusc.get("sample", scene["first_sample_token"])
        ego = tiny_nusc.get("ego_pose", sample["data"]["LIDAR_TOP"])["translation"]
        assert mask.is_on_mask(ego[0], ego[1])[0]  # the ego drives on the semantic prior


def test_official_lidarseg_eval_scores_ground_truth_perfectly(tiny_nusc, tiny_release: Path, tmp_path: Path):
    from nuscenes.eval.lidarseg.evaluate import LidarSegEval

    out = tmp_path / "lidarseg" / "mini_val"
    out.mkdir(parents=True)
    for sample in tiny_nusc.sample:
        sd = sample["data"]["LIDAR_TOP"]
        labels = np.fromfile(tiny_release / tiny_nusc.get("lidarseg", sd)["filename"], dtype=np.uint8)
        fine_to_eval(labels).astype(np.uint8).tofile(out / f"{sd}_lidarseg.bin")
    result = LidarSegEval(tiny_nusc, str(tmp_path), "mini_val", verbose=False).evaluate()
    assert result["miou"] == pytest.approx(1.0)
    assert all(v == pytest.approx(1.0) for k, v in result["iou_per_class"].items() if k != "ignore")


def test_official_detection_eval_accepts_ground_truth(tiny_nusc, tmp_path: Path):
    from nuscenes.eval.common.config import config_factory
    from nuscenes.eval.detection.evaluate import DetectionEval
    from nuscenes.eval.detection.utils import category_to_detection_name

    results = {}
    for sample in tiny_nusc.sample:
        boxes = []
        for tok in sample["anns"]:
            ann = tiny_nusc.get("sample_annotation", tok)
            name = category_to_detection_name(ann["category_name"])
            if name is None:
                continue
            attrs = [tiny_nusc.get("attribute", t)["name"] for t in ann["attribute_tokens"]]
            vel = tiny_nusc.box_velocity(tok)[:2]
            boxes.append({"sample_token": sample["token"], "translation": ann["translation"], "size": ann["size"],
                          "rotation": ann["rotation"], "velocity": [float(v) if np.isfinite(v) else 0.0 for v in vel],
                          "detection_name": name, "detection_score": 0.9, "attribute_name": attrs[0] if attrs else ""})
        results[sample["token"]] = boxes
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"meta": {"use_lidar": True}, "results": results}))
    ev = DetectionEval(tiny_nusc, config_factory("detection_cvpr_2019"), str(path), "mini_val", str(tmp_path / "out"),
                       verbose=False)
    metrics, _ = ev.evaluate()
    assert metrics.mean_ap > 0.9 and metrics.nd_score > 0.8
