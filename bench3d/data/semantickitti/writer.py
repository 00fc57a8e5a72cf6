"""Write frames of any `Reader` as a SemanticKITTI release (what `bench3d synth --format semantickitti` uses
to write the synthetic world a second way).

Sequence numbering follows the standard split rule, so SemanticKITTI's own split applies unchanged: the
train scenes become sequences 00-07, 09, 10 in order (at most ten) and the validation scenes sequence 08,
one after another (times continue with a 1 s gap; `synthetic/sequences.json` says which scans came from
which scene). Per scan: velodyne x, y, z and intensity / 255 as remission; labels mapped by `label_map`
(raw id per source label, instance 0); the chosen camera as `image_2` (PNG) with P0 = P1 = P2 = P3 = [K | 0]
and Tr = the camera-from-LiDAR transform of the rig (LiDAR and camera taken as synchronised, as KITTI is);
poses Tr · L_i · Tr⁻¹ with L_i the LiDAR pose in the sequence's first LiDAR frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from bench3d.data.reader import Reader
from bench3d.data.publish import publish_folder
from bench3d.data.semantickitti import files
from bench3d.data.semantickitti.reader import CAMERA, INTENSITY_SCALE
from bench3d.errors import ConfigError
from bench3d.synth.generate import check_target
from bench3d.geometry import invert_transform
from bench3d.labels.semantickitti import TRAIN_SEQUENCES, VALID_SEQUENCES

SCENE_GAP_S = 1.0  # time between two scenes written into one sequence


def sequence_numbers(train_scenes: Sequence[str], val_scenes: Sequence[str]) -> dict[str, int]:
    """Scene name -> sequence number under the standard split rule."""
    if len(train_scenes) > len(TRAIN_SEQUENCES):
        raise ConfigError(f"{len(train_scenes)} train scenes, but SemanticKITTI's split has {len(TRAIN_SEQUENCES)} "
                          f"train sequences ({TRAIN_SEQUENCES}); write at most that many")
    if not val_scenes:
        raise ConfigError("no validation scene: sequence 08 (SemanticKITTI's `valid` split) would be empty")
    return {**dict(zip(train_scenes, TRAIN_SEQUENCES)), **{s: VALID_SEQUENCES[0] for s in val_scenes}}


def write_semantickitti(reader: Reader, out: Path, train_scenes: Sequence[str], val_scenes: Sequence[str],
                        label_map: Callable[[np.ndarray], np.ndarray], camera: str = "CAM_FRONT",
                        overwrite: bool = False) -> Path:
    """Write the scenes' keyframes under `out/sequences/` (atomically: into a sibling folder, then renamed)."""
    out = Path(out).resolve()
    check_target(out, overwrite)  # the synthetic release's own rule: only an empty folder, unless overwrite
    numbers = sequence_numbers(train_scenes, val_scenes)

    def fill(tmp: Path) -> None:
        provenance: dict[str, list[dict]] = {}
        for seq_no in sorted(set(numbers.values())):
            scenes = [s for s in numbers if numbers[s] == seq_no]
            provenance[f"{seq_no:02d}"] = _write_sequence(reader, tmp / "sequences" / f"{seq_no:02d}", scenes,
                                                          label_map, camera)
        (tmp / "synthetic").mkdir(parents=True)
        (tmp / "synthetic" / "sequences.json").write_text(json.dumps(provenance, indent=1))

    return publish_folder(out, fill)


def _write_sequence(reader: Reader, folder: Path, scenes: list[str], label_map: Callable[[np.ndarray], np.ndarray],
                    camera: str) -> list[dict]:
    for sub in ("velodyne", "labels", CAMERA):
        (folder / sub).mkdir(parents=True)
    tr = first = None
    poses, times, provenance, offset = [], [], [], 0.0
    for scene in reader.sequences(scenes):
        start_scan, scene_t0 = len(poses), None
        for token in scene.sample_tokens:
            frame = reader.frame(token, cameras=(camera,), boxes=False)
            view = frame.cameras.get(camera)
            if view is None:
                raise ConfigError(f"sample {token} has no {camera} image to write as {CAMERA}")
            if tr is None:  # the rig: camera-from-LiDAR, and the camera matrix
                tr = invert_transform(view.sensor_to_ego) @ frame.lidar_to_ego
                k = np.asarray(view.intrinsic, dtype=np.float64)
                p = np.eye(4)
                p[:3, :3] = k
                files.write_calib(folder / "calib.txt", {key: p for key in ("P0", "P1", "P2", "P3")} | {"Tr": tr})
            lidar_to_global = frame.ego_to_global @ frame.lidar_to_ego
            first = lidar_to_global if first is None else first
            poses.append(tr @ (invert_transform(first) @ lidar_to_global) @ invert_transform(tr))
            scene_t0 = frame.timestamp if scene_t0 is None else scene_t0
            times.append(offset + (frame.timestamp - scene_t0) / 1e6)
            name = f"{len(poses) - 1:06d}"
            scan = frame.points[:, :4].astype(np.float32).copy()
            scan[:, 3] /= INTENSITY_SCALE
            files.write_scan(folder / "velodyne" / f"{name}.bin", scan)
            if frame.labels is not None:
                files.write_labels(folder / "labels" / f"{name}.label", label_map(frame.labels))
            Image.fromarray(view.image).save(folder / CAMERA / f"{name}.png")
        provenance.append({"scene": scene.name, "first_scan": start_scan, "scans": len(poses) - start_scan})
        offset = times[-1] + SCENE_GAP_S
    files.write_poses(folder / "poses.txt", poses)
    files.write_times(folder / "times.txt", times)
    return provenance
