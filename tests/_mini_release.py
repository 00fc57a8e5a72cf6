"""A minimal nuScenes release the devkit can load: for cross-checking metrics against the official tools.

All 13 tables, the 32 lidarseg categories with `index`, one map record (and a file at its path) covering
every log, lidarseg.json with one label file per LIDAR_TOP keyframe, and one instance of each of the
10 detection classes per scene, annotated in every sample (so GT velocities and attributes exist).
Scene names default to the devkit's mini_val pair, so `mini_val` works for LidarSegEval and DetectionEval.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench3d.labels.nuscenes import FINE_CLASSES

# detection class -> (fine category, size w/l/h, attribute or "")
DETECTION_OBJECTS: dict[str, tuple[str, tuple[float, float, float], str]] = {
    "car": ("vehicle.car", (1.9, 4.6, 1.7), "vehicle.parked"),
    "truck": ("vehicle.truck", (2.5, 7.0, 3.0), "vehicle.stopped"),
    "bus": ("vehicle.bus.rigid", (2.9, 11.0, 3.5), "vehicle.moving"),
    "trailer": ("vehicle.trailer", (2.3, 10.0, 3.8), "vehicle.parked"),
    "construction_vehicle": ("vehicle.construction", (2.8, 6.5, 3.2), "vehicle.parked"),
    "pedestrian": ("human.pedestrian.adult", (0.7, 0.7, 1.8), "pedestrian.moving"),
    "motorcycle": ("vehicle.motorcycle", (0.8, 2.1, 1.5), "cycle.with_rider"),
    "bicycle": ("vehicle.bicycle", (0.6, 1.8, 1.3), "cycle.without_rider"),
    "traffic_cone": ("movable_object.trafficcone", (0.4, 0.4, 1.0), ""),
    "barrier": ("movable_object.barrier", (2.5, 0.5, 1.0), ""),
}
ATTRIBUTES = (
    "pedestrian.moving", "pedestrian.sitting_lying_down", "pedestrian.standing", "cycle.with_rider",
    "cycle.without_rider", "vehicle.moving", "vehicle.parked", "vehicle.stopped",
)  # fmt: skip


@dataclass
class MiniRelease:
    dataroot: Path
    version: str
    scene_names: list[str]
    sample_tokens: dict[str, list[str]] = field(default_factory=dict)  # scene name -> samples in order
    lidar_tokens: dict[str, str] = field(default_factory=dict)  # sample token -> LIDAR_TOP sd token
    num_points: dict[str, int] = field(default_factory=dict)  # lidar sd token -> points

    def all_samples(self) -> list[str]:
        return [t for name in self.scene_names for t in self.sample_tokens[name]]


def _yaw_quaternion(yaw: float) -> list[float]:
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


def build_mini_release(
    root: Path,
    version: str = "v1.0-mini",
    scene_names: tuple[str, ...] = ("scene-0103", "scene-0916"),
    samples_per_scene: int = 3,
    points_per_sample: tuple[int, int] = (150, 300),
    seed: int = 0,
    custom_splits: dict[str, list[str]] | None = None,
) -> MiniRelease:
    rng = np.random.default_rng(seed)
    root = Path(root)
    table_dir = root / version
    table_dir.mkdir(parents=True)
    release = MiniRelease(root, version, list(scene_names))
    tables: dict[str, list[dict]] = {name: [] for name in (
        "category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
        "scene", "sample", "sample_data", "sample_annotation", "map", "lidarseg")}  # fmt: skip

    tables["category"] = [
        {"token": f"cat{i:02d}", "name": name, "description": name, "index": i} for i, name in enumerate(FINE_CLASSES)
    ]
    category_token = {c["name"]: c["token"] for c in tables["category"]}
    tables["attribute"] = [{"token": f"attr{i}", "name": n, "description": n} for i, n in enumerate(ATTRIBUTES)]
    attribute_token = {a["name"]: a["token"] for a in tables["attribute"]}
    tables["visibility"] = [
        {"token": str(i + 1), "level": lvl, "description": lvl} for i, lvl in enumerate(("v0-40", "v40-60", "v60-80", "v80-100"))
    ]
    tables["sensor"] = [{"token": "sensor-lidar", "channel": "LIDAR_TOP", "modality": "lidar"}]
    tables["calibrated_sensor"] = [{
        "token": "calib-lidar", "sensor_token": "sensor-lidar", "translation": [0.94, 0.0, 1.84],
        "rotation": _yaw_quaternion(-math.pi / 2), "camera_intrinsic": [],
    }]  # fmt: skip

    (root / "samples" / "LIDAR_TOP").mkdir(parents=True)
    (root / "lidarseg" / version).mkdir(parents=True)
    for s, name in enumerate(scene_names):
        log_token, logfile = f"log{s}", f"n015-2018-07-2{s}-11-22-45+0800"
        tables["log"].append({"token": log_token, "logfile": logfile, "vehicle": "n015", "date_captured": "2018-07-24",
                              "location": "singapore-onenorth"})  # fmt: skip
        samples = [f"s{s}-sample{k}" for k in range(samples_per_scene)]
        lidars = [f"s{s}-lidar{k}" for k in range(samples_per_scene)]
        release.sample_tokens[name] = samples
        t0 = 1_532_402_927_000_000 + s * 100_000_000
        for k, (sample, lidar) in enumerate(zip(samples, lidars)):
            ts = t0 + k * 500_000
            prev_k, next_k = (k - 1 if k > 0 else None), (k + 1 if k + 1 < samples_per_scene else None)
            tables["sample"].append({"token": sample, "timestamp": ts, "scene_token": f"scene{s}",
                                     "prev": samples[prev_k] if prev_k is not None else "",
                                     "next": samples[next_k] if next_k is not None else ""})  # fmt: skip
            ego = [100.0 * s + 2.0 * k, 50.0, 0.0]
            tables["ego_pose"].append({"token": lidar, "translation": ego, "rotation": _yaw_quaternion(0.1 * s),
                                       "timestamp": ts})  # fmt: skip
            filename = f"samples/LIDAR_TOP/{logfile}__LIDAR_TOP__{ts}.pcd.bin"
            tables["sample_data"].append({
                "token": lidar, "sample_token": sample, "ego_pose_token": lidar, "calibrated_sensor_token": "calib-lidar",
                "filename": filename, "fileformat": "pcd", "width": 0, "height": 0, "timestamp": ts,
                "is_key_frame": True, "prev": lidars[prev_k] if prev_k is not None else "",
                "next": lidars[next_k] if next_k is not None else "",
            })  # fmt: skip
            n = int(rng.integers(*points_per_sample))
            points = np.concatenate([rng.normal(0, 10, (n, 3)), rng.uniform(0, 100, (n, 1)),
                                     rng.integers(0, 32, (n, 1))], axis=1)  # fmt: skip
            points.astype(np.float32).tofile(root / filename)
            label_file = f"lidarseg/{version}/{lidar}_lidarseg.bin"
            rng.integers(0, len(FINE_CLASSES), n).astype(np.uint8).tofile(root / label_file)
            tables["lidarseg"].append({"token": lidar, "sample_data_token": lidar, "filename": label_file})
            release.lidar_tokens[sample] = lidar
            release.num_points[lidar] = n
        tables["scene"].append({"token": f"scene{s}", "name": name, "description": "synthetic", "log_token": log_token,
                                "nbr_samples": samples_per_scene, "first_sample_token": samples[0],
                                "last_sample_token": samples[-1]})  # fmt: skip
        for c, (det_name, (fine, size, attribute)) in enumerate(DETECTION_OBJECTS.items()):
            instance = f"s{s}-inst{c}"
            anns = [f"{instance}-ann{k}" for k in range(samples_per_scene)]
            tables["instance"].append({"token": instance, "category_token": category_token[fine],
                                       "nbr_annotations": len(anns), "first_annotation_token": anns[0],
                                       "last_annotation_token": anns[-1]})  # fmt: skip
            # Objects on a ring 8-20 m around the first ego pose, each moving slowly along x.
            angle, radius = 2 * math.pi * c / len(DETECTION_OBJECTS), 8.0 + c
            for k, ann in enumerate(anns):
                centre = [100.0 * s + radius * math.cos(angle) + 0.3 * k, 50.0 + radius * math.sin(angle), 1.0]
                tables["sample_annotation"].append({
                    "token": ann, "sample_token": samples[k], "instance_token": instance,
                    "attribute_tokens": [attribute_token[attribute]] if attribute else [], "visibility_token": "4",
                    "translation": centre, "size": list(size), "rotation": _yaw_quaternion(angle),
                    "num_lidar_pts": 20, "num_radar_pts": 0,
                    "prev": anns[k - 1] if k > 0 else "", "next": anns[k + 1] if k + 1 < len(anns) else "",
                })  # fmt: skip

    (root / "maps").mkdir()
    (root / "maps" / "map0.png").write_bytes(b"")  # the devkit only checks that the file exists at load
    tables["map"] = [{"token": "map0", "log_tokens": [r["token"] for r in tables["log"]], "category": "semantic_prior",
                      "filename": "maps/map0.png"}]  # fmt: skip
    for name, records in tables.items():
        (table_dir / f"{name}.json").write_text(json.dumps(records))
    if custom_splits:
        (table_dir / "splits.json").write_text(json.dumps(custom_splits))
    return release


def write_random_lidarseg_predictions(release: MiniRelease, out: Path, eval_set: str, seed: int = 1) -> Path:
    """Random predictions 1..16 in the submission layout `<out>/lidarseg/<eval_set>/<sd>_lidarseg.bin`."""
    rng = np.random.default_rng(seed)
    folder = Path(out) / "lidarseg" / eval_set
    folder.mkdir(parents=True, exist_ok=True)
    for lidar, n in release.num_points.items():
        rng.integers(1, 17, n).astype(np.uint8).tofile(folder / f"{lidar}_lidarseg.bin")
    return folder
