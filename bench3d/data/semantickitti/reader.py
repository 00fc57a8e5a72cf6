"""A SemanticKITTI release (`<dataroot>/sequences/NN/...`) as Frames and Sequences (the `Reader` contract).

Tokens are `NN/NNNNNN` (sequence / scan). Conventions, so that frames mean what nuScenes frames mean:
- points: x, y, z in the velodyne frame and the remission rescaled to the 0..255 intensity scale of nuScenes
  (`INTENSITY_SCALE`), so a backbone's intensity input has one range across datasets;
- labels: raw SemanticKITTI semantic ids, uint32 (the low 16 bits of the `.label` values);
- the velodyne frame is the "ego" frame (`lidar_to_ego` = I); `ego_to_global` is the scan's LiDAR pose in the
  first scan's LiDAR frame, Tr⁻¹ · P_i · Tr (as semantic-kitti-api's `generate_sequential.py`);
- one camera, `image_2` (the left colour camera), synchronised with the scan: its intrinsics are P2's 3x3 part
  and its frame is the rectified cam0 frame shifted by P2's baseline, K⁻¹ · P2[:, 3].
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bench3d.data.frame import CameraView, Frame
from bench3d.data.nuscenes.files import load_image, scale_intrinsic
from bench3d.data.semantickitti import files
from bench3d.errors import DataError
from bench3d.geometry import invert_transform

INTENSITY_SCALE = 255.0  # remission (0..1) -> the 0..255 scale of nuScenes intensities
CAMERA = "image_2"


@dataclass(frozen=True)
class KittiSequence:
    """One sequence folder: its two-digit name and scan tokens in time order."""

    name: str
    sample_tokens: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.sample_tokens)


def _split_token(token: str) -> tuple[str, str]:
    seq, _, scan = token.partition("/")
    if not (len(seq) == 2 and seq.isdigit() and len(scan) == 6 and scan.isdigit()):
        raise DataError(token, "is not a SemanticKITTI scan token", "tokens are NN/NNNNNN (sequence/scan)")
    return seq, scan


class SemanticKittiReader:
    """Reads `dataroot/sequences/NN/{velodyne,labels,image_2}`, `calib.txt`, `poses.txt` and `times.txt`."""

    version = "semantickitti"

    def __init__(self, dataroot: str | Path) -> None:
        self.dataroot = Path(dataroot)
        root = self.dataroot / "sequences"
        if not root.is_dir():
            raise DataError(root, "is missing", "point --dataroot at the folder that holds sequences/NN/velodyne")
        self._sequences = {}
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
            scans = sorted(p.stem for p in (folder / "velodyne").glob("*.bin"))
            if scans:
                self._sequences[folder.name] = KittiSequence(folder.name, tuple(f"{folder.name}/{s}" for s in scans))
        if not self._sequences:
            raise DataError(root, "holds no sequence with velodyne/*.bin scans")
        # Position of each scan in its sequence (its pose and time row); a sequence holds thousands of scans.
        self._index = {t: i for seq in self._sequences.values() for i, t in enumerate(seq.sample_tokens)}

    # ---- sequences and neighbours -------------------------------------------------------------
    def sequences(self, scene_names: list[str] | None = None) -> list[KittiSequence]:
        if scene_names is None:
            return list(self._sequences.values())
        missing = [n for n in scene_names if n not in self._sequences]
        if missing:
            raise DataError(self.dataroot / "sequences", f"sequences not in this release: {missing}")
        return [self._sequences[n] for n in scene_names]

    def neighbours(self, sample_token: str, past: int = 0, future: int = 0) -> list[str]:
        seq, _ = _split_token(sample_token)
        tokens = self._sequence(seq).sample_tokens
        i = self._scan_index(sample_token)
        return list(tokens[max(0, i - past):i + future + 1])

    def sample_files(self, sample_token: str) -> list[Path]:
        seq, scan = _split_token(sample_token)
        folder = self.dataroot / "sequences" / seq
        return [folder / "velodyne" / f"{scan}.bin", folder / CAMERA / f"{scan}.png"]

    # ---- geometry -----------------------------------------------------------------------------------
    def _sequence(self, seq: str) -> KittiSequence:
        if seq not in self._sequences:
            raise DataError(self.dataroot / "sequences" / seq, "is not a sequence of this release")
        return self._sequences[seq]

    def _scan_index(self, token: str) -> int:
        if token not in self._index:
            seq, scan = _split_token(token)
            raise DataError(self.dataroot / "sequences" / seq / "velodyne" / f"{scan}.bin",
                            "is not a scan of this release")
        return self._index[token]

    @lru_cache(maxsize=64)  # noqa: B019 - one reader per release; a handful of sequences
    def _calib(self, seq: str) -> dict[str, np.ndarray]:
        return files.read_calib(self.dataroot / "sequences" / seq / "calib.txt")

    @lru_cache(maxsize=64)  # noqa: B019
    def _lidar_poses(self, seq: str) -> list[np.ndarray]:
        """LiDAR pose of every scan in the first scan's LiDAR frame: Tr⁻¹ · P_i · Tr."""
        path = self.dataroot / "sequences" / seq / "poses.txt"
        if not path.is_file():
            raise DataError(path, "is missing", "every sequence needs poses.txt (one 3x4 pose per scan)")
        poses = files.read_poses(path)
        if len(poses) != len(self._sequence(seq)):
            raise DataError(path, f"has {len(poses)} poses for {len(self._sequence(seq))} scans")
        tr = self._calib(seq)["Tr"]
        tr_inv = invert_transform(tr)
        return [tr_inv @ p @ tr for p in poses]

    @lru_cache(maxsize=64)  # noqa: B019
    def _times(self, seq: str) -> list[float]:
        path = self.dataroot / "sequences" / seq / "times.txt"
        return files.read_times(path) if path.is_file() else [0.1 * i for i in range(len(self._sequence(seq)))]

    def camera_to_lidar(self, seq: str) -> tuple[np.ndarray, np.ndarray]:
        """(intrinsic 3x3, image_2 -> velodyne 4x4) of a sequence."""
        calib = self._calib(seq)
        p2 = calib["P2"]
        k = p2[:3, :3]
        cam2_from_cam0 = np.eye(4)
        cam2_from_cam0[:3, 3] = np.linalg.solve(k, p2[:3, 3])
        return k, invert_transform(calib["Tr"]) @ invert_transform(cam2_from_cam0)

    # ---- frames ---------------------------------------------------------------------------------------
    def frame(self, sample_token: str, *, sweeps: int = 1, cameras: tuple[str, ...] | None = (CAMERA,),
              labels: bool = True, boxes: bool = True, max_image_size: tuple[int, int] | None = None) -> Frame:
        if sweeps != 1:
            raise DataError(self.dataroot, "SemanticKITTI frames are single scans here (sweeps=1)",
                            "stack neighbouring scans with `neighbours` and the poses instead")
        seq, scan = _split_token(sample_token)
        index = self._scan_index(sample_token)
        folder = self.dataroot / "sequences" / seq
        points = files.read_scan(folder / "velodyne" / f"{scan}.bin")  # a fresh array: scaled in place
        points[:, 3] *= INTENSITY_SCALE
        point_labels = None
        label_path = folder / "labels" / f"{scan}.label"
        if labels and label_path.is_file():
            point_labels = files.read_labels(label_path, len(points)) & np.uint32(0xFFFF)
        pose = self._lidar_poses(seq)[index]
        timestamp = int(round(self._times(seq)[index] * 1e6))
        views = {}
        if cameras and CAMERA in cameras and (folder / CAMERA / f"{scan}.png").is_file():
            k, cam_to_lidar = self.camera_to_lidar(seq)
            image, sx, sy = load_image(folder / CAMERA / f"{scan}.png", max_image_size)
            views[CAMERA] = CameraView(CAMERA, f"{sample_token}/{CAMERA}", image, scale_intrinsic(k, sx, sy),
                                       cam_to_lidar, pose, timestamp)
        return Frame(token=sample_token, scene_name=seq, timestamp=timestamp, lidar_token=sample_token,
                     points=points, labels=point_labels, lidar_to_ego=np.eye(4), ego_to_global=pose, cameras=views,
                     boxes=[])
