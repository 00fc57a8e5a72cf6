"""A Waymo Open Dataset v2 release (modular Parquet, `<root>/<split>/<tag>/<segment>.parquet`) as Frames and
Sequences (the `Reader` contract), with pyarrow only (no TensorFlow).

Conventions, so that frames mean what nuScenes frames mean:
- a sequence is a segment; its sample tokens `<segment>/<timestamp_micros>` are the frames that have
  `lidar_segmentation` rows (the labelled frames, as nuScenes keyframes are the annotated ones), or every TOP
  frame of a segment without labels;
- points: the TOP laser's returns 1 then 2, converted as the official `convert_range_image_to_point_cloud`
  does (inclinations reversed, the laser's azimuth correction, the extrinsic, then the per-pixel ego-motion
  correction of `lidar_pose` when the segment has it), in the *vehicle* frame (`lidar_to_ego` = I, as the
  official tools give points); intensity × 255, the 0..255 scale of nuScenes; pixels of range <= 0 are no point;
- labels: raw Waymo semantic types (0 = UNDEFINED), in point order;
- `ego_to_global` is `vehicle_pose`'s world_from_vehicle; each camera carries its image's own pose and time,
  and its frame is turned from Waymo's (x forward, y left, z up) into the optical one (x right, y down, z ahead).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench3d.data.frame import CameraView, Frame
from bench3d.data.nuscenes.files import load_image, scale_intrinsic
from bench3d.data.waymo import columns as col
from bench3d.data.waymo.range_image import inclinations, range_image_to_points
from bench3d.errors import DataError
from bench3d.geometry import invert_transform


@dataclass(frozen=True)
class WaymoSegment:
    """One segment: its context name, split folder and frame tokens in time order."""

    name: str
    split: str
    sample_tokens: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.sample_tokens)


def split_token(token: str) -> tuple[str, int]:
    segment, _, ts = token.rpartition("/")
    if not segment or not ts.isdigit():
        raise DataError(token, "is not a Waymo frame token", "tokens are <segment_context_name>/<timestamp_micros>")
    return segment, int(ts)


def _keys(path: Path, laser_only: bool) -> list[int]:
    table = pq.read_table(path, columns=[col.TIMESTAMP, col.LASER] if laser_only else [col.TIMESTAMP])
    if laser_only:
        table = table.filter(pc.equal(table.column(col.LASER), col.LASER_TOP))
    return sorted(set(int(t) for t in table.column(col.TIMESTAMP).to_pylist()))


def _ego_motion_corrected(xyz: np.ndarray, poses: np.ndarray, world_from_vehicle: np.ndarray) -> np.ndarray:
    """Points taken to the world by their pixel's pose (roll, pitch, yaw, x, y, z), then back by the frame's pose,
    as the official converter does."""
    poses = poses.astype(np.float64)
    rot = col.euler_rotation(poses[:, 0], poses[:, 1], poses[:, 2])
    world = np.einsum("nij,nj->ni", rot, xyz) + poses[:, 3:]
    vehicle_from_world = invert_transform(world_from_vehicle)
    return world @ vehicle_from_world[:3, :3].T + vehicle_from_world[:3, 3]


class WaymoReader:
    """Reads `lidar`, `lidar_calibration`, `lidar_pose`, `lidar_segmentation`, `vehicle_pose`, `camera_image`
    and `camera_calibration` of every segment under `<dataroot>/{training,validation,testing}/`."""

    version = "waymo-v2"

    def __init__(self, dataroot: str | Path) -> None:
        self.dataroot = Path(dataroot)
        self._segments: dict[str, WaymoSegment] = {}
        for split in col.SPLITS:
            for path in sorted((self.dataroot / split / col.LIDAR).glob("*.parquet")):
                labelled = col.component_path(self.dataroot, split, col.LIDAR_SEGMENTATION, path.stem)
                stamps = _keys(labelled, True) if labelled.is_file() else _keys(path, True)
                if stamps:
                    self._segments[path.stem] = WaymoSegment(path.stem, split, tuple(f"{path.stem}/{t}" for t in stamps))
        if not self._segments:
            raise DataError(self.dataroot, "holds no segment with <split>/lidar/*.parquet",
                            "point --dataroot at a Waymo v2 root (the folder holding training/ and validation/)")
        self._index = {t: i for seg in self._segments.values() for i, t in enumerate(seg.sample_tokens)}

    # ---- sequences and neighbours -------------------------------------------------------------
    def sequences(self, scene_names: list[str] | None = None) -> list[WaymoSegment]:
        if scene_names is None:
            return list(self._segments.values())
        missing = [n for n in scene_names if n not in self._segments]
        if missing:
            raise DataError(self.dataroot, f"segments not in this release: {missing}")
        return [self._segments[n] for n in scene_names]

    def split_segments(self, split: str) -> list[str]:
        return [s.name for s in self._segments.values() if s.split == split]

    def neighbours(self, sample_token: str, past: int = 0, future: int = 0) -> list[str]:
        tokens = self._segment(sample_token).sample_tokens
        i = self._position(sample_token)
        return list(tokens[max(0, i - past):i + future + 1])

    def sample_files(self, sample_token: str) -> list[Path]:
        seg = self._segment(sample_token)
        return [col.component_path(self.dataroot, seg.split, tag, seg.name)
                for tag in (col.LIDAR, col.LIDAR_SEGMENTATION, col.CAMERA_IMAGE)
                if col.component_path(self.dataroot, seg.split, tag, seg.name).is_file()]

    def _segment(self, token: str) -> WaymoSegment:
        name, _ = split_token(token)
        if name not in self._segments:
            raise DataError(self.dataroot, f"segment {name!r} is not in this release")
        return self._segments[name]

    def _position(self, token: str) -> int:
        if token not in self._index:
            raise DataError(self.dataroot, f"frame {token} is not a frame of this release")
        return self._index[token]

    # ---- per-segment tables -------------------------------------------------------------------------
    def _path(self, seg: WaymoSegment, tag: str, required: bool = True) -> Path | None:
        path = col.component_path(self.dataroot, seg.split, tag, seg.name)
        if not path.is_file():
            if required:
                raise DataError(path, "is missing", f"every segment needs its `{tag}` component")
            return None
        return path

    @lru_cache(maxsize=64)  # noqa: B019 - one reader per release; calibrations are a few rows
    def _laser(self, name: str) -> tuple[np.ndarray, np.ndarray | None, float, float]:
        path = self._path(self._segments[name], col.LIDAR_CALIBRATION)
        table = pq.read_table(path).to_pylist()
        rows = [r for r in table if int(r[col.LASER]) == col.LASER_TOP]
        if not rows:
            raise DataError(path, "has no row for the TOP laser (laser_name 1)")
        row = rows[0]
        values = row.get(col.BEAM_VALUES)
        return (col.transform(row[col.LIDAR_EXTRINSIC], path), None if not values else np.asarray(values, np.float64),
                float(row[col.BEAM_MIN]), float(row[col.BEAM_MAX]))

    @lru_cache(maxsize=64)  # noqa: B019
    def _vehicle_poses(self, name: str) -> dict[int, np.ndarray]:
        path = self._path(self._segments[name], col.VEHICLE_POSE)
        table = pq.read_table(path, columns=[col.TIMESTAMP, col.WORLD_FROM_VEHICLE])
        return {int(t): col.transform(v, path) for t, v in zip(table.column(col.TIMESTAMP).to_pylist(),
                                                                table.column(col.WORLD_FROM_VEHICLE).to_pylist())}

    @lru_cache(maxsize=64)  # noqa: B019
    def _cameras(self, name: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """camera id -> (K, optical camera -> vehicle)."""
        path = self._path(self._segments[name], col.CAMERA_CALIBRATION, required=False)
        if path is None:
            return {}
        out = {}
        for row in pq.read_table(path).to_pylist():
            k = np.array([[row[col.INTRINSIC + "f_u"], 0.0, row[col.INTRINSIC + "c_u"]],
                          [0.0, row[col.INTRINSIC + "f_v"], row[col.INTRINSIC + "c_v"]], [0.0, 0.0, 1.0]])
            extrinsic = col.transform(row[col.CAMERA_EXTRINSIC], path) @ invert_transform(col.OPTICAL_FROM_WAYMO_CAMERA)
            out[int(row[col.CAMERA])] = (k, extrinsic)
        return out

    @lru_cache(maxsize=128)  # noqa: B019 - a few components of the segments being read
    def _row_index(self, path: Path, laser: bool) -> tuple[pq.ParquetFile, dict[int, tuple[int, int]]]:
        """The file and, per frame timestamp, its (row group, row in group): read once from the key columns, so a
        frame reads one row group instead of scanning the file with a filter."""
        handle = pq.ParquetFile(path)
        index: dict[int, tuple[int, int]] = {}
        keys = [col.TIMESTAMP] + ([col.LASER] if laser else [])
        for group in range(handle.num_row_groups):
            table = handle.read_row_group(group, columns=keys)
            stamps = table.column(col.TIMESTAMP).to_numpy()
            lasers = table.column(col.LASER).to_numpy() if laser else np.full(len(stamps), col.LASER_TOP)
            for row, (ts, name) in enumerate(zip(stamps.tolist(), lasers.tolist())):
                if name == col.LASER_TOP:
                    index.setdefault(int(ts), (group, row))
        return handle, index

    def _row(self, seg: WaymoSegment, tag: str, ts: int, columns: list[str], laser: bool = True) -> dict | None:
        """One frame's cells: list columns as flat numpy arrays (no Python lists: a range image is 10^5 values),
        others as Python values; None when the segment has no such component or no row at `ts`."""
        path = self._path(seg, tag, required=tag == col.LIDAR)
        if path is None:
            return None
        handle, index = self._row_index(path, laser)
        if ts not in index:
            if tag == col.LIDAR:
                raise DataError(path, f"has no TOP laser row at timestamp {ts}")
            return None
        group, row = index[ts]
        table = handle.read_row_group(group, columns=columns).slice(row, 1)
        return {name: col.first_cell(table.column(name)) for name in columns}

    # ---- frames ---------------------------------------------------------------------------------------
    def frame(self, sample_token: str, *, sweeps: int = 1, cameras: tuple[str, ...] | None = tuple(col.CAMERA_IDS),
              labels: bool = True, boxes: bool = True, max_image_size: tuple[int, int] | None = None) -> Frame:
        if sweeps != 1:
            raise DataError(self.dataroot, "Waymo frames are single TOP scans here (sweeps=1)",
                            "stack neighbouring frames with `neighbours` and the poses instead")
        seg = self._segment(sample_token)
        self._position(sample_token)
        _, ts = split_token(sample_token)
        extrinsic, values, lo, hi = self._laser(seg.name)
        ri_cols = [col.range_image_column(col.LIDAR_COMPONENT, r, f) for r in (1, 2) for f in ("values", "shape")]
        lidar = self._row(seg, col.LIDAR, ts, ri_cols)
        where = col.component_path(self.dataroot, seg.split, col.LIDAR, seg.name)
        pose_cols = [col.range_image_column(col.LIDAR_POSE_COMPONENT, 1, f) for f in ("values", "shape")]
        pixel_pose = self._row(seg, col.LIDAR_POSE, ts, pose_cols)
        world_from_vehicle = self._vehicle_poses(seg.name).get(ts)
        if world_from_vehicle is None:
            raise DataError(col.component_path(self.dataroot, seg.split, col.VEHICLE_POSE, seg.name),
                            f"has no pose at timestamp {ts}")
        parts, pixel_lists = [], []
        for ret in (1, 2):
            values_col, shape_col = ri_cols[2 * (ret - 1)], ri_cols[2 * (ret - 1) + 1]
            if lidar.get(values_col) is None:
                continue
            image = col.image_of(lidar[values_col], lidar[shape_col], where)
            incl = inclinations(image.shape[0], lo, hi, values)
            xyz, pixels = range_image_to_points(image, extrinsic, incl)
            if pixel_pose is not None and len(xyz):  # TOP's ego-motion correction; return 2 shares return 1's pose
                image_pose = col.image_of(pixel_pose[pose_cols[0]], pixel_pose[pose_cols[1]], where)
                xyz = _ego_motion_corrected(xyz, image_pose[pixels[:, 0], pixels[:, 1]], world_from_vehicle)
            intensity = image[pixels[:, 0], pixels[:, 1], 1] * col.INTENSITY_SCALE
            parts.append(np.concatenate([xyz, intensity[:, None]], axis=1).astype(np.float32))
            pixel_lists.append((ret, pixels))
        points = np.concatenate(parts) if parts else np.zeros((0, 4), np.float32)
        point_labels = self._labels(seg, ts, pixel_lists) if labels else None
        views = self._views(seg, ts, cameras, max_image_size) if cameras else {}
        return Frame(token=sample_token, scene_name=seg.name, timestamp=ts, lidar_token=sample_token, points=points,
                     labels=point_labels, lidar_to_ego=np.eye(4), ego_to_global=world_from_vehicle, cameras=views,
                     boxes=[])

    def _labels(self, seg: WaymoSegment, ts: int, pixel_lists: list[tuple[int, np.ndarray]]) -> np.ndarray | None:
        label_cols = [col.range_image_column(col.SEGMENTATION_COMPONENT, r, f) for r in (1, 2) for f in ("values", "shape")]
        row = self._row(seg, col.LIDAR_SEGMENTATION, ts, label_cols)
        if row is None:
            return None
        where = col.component_path(self.dataroot, seg.split, col.LIDAR_SEGMENTATION, seg.name)
        out = []
        for ret, pixels in pixel_lists:
            image = col.image_of(row[label_cols[2 * (ret - 1)]], row[label_cols[2 * (ret - 1) + 1]], where, np.int32)
            out.append(image[pixels[:, 0], pixels[:, 1], 1].astype(np.uint32))
        return np.concatenate(out) if out else np.zeros(0, np.uint32)

    def _views(self, seg: WaymoSegment, ts: int, cameras: tuple[str, ...], max_image_size) -> dict[str, CameraView]:
        path = self._path(seg, col.CAMERA_IMAGE, required=False)
        calib = self._cameras(seg.name)
        wanted = {col.CAMERA_IDS[c] for c in cameras if c in col.CAMERA_IDS}
        if path is None or not wanted:
            return {}
        rows = pq.read_table(path, columns=[col.CAMERA, col.IMAGE, col.IMAGE_POSE, col.IMAGE_POSE_TIMESTAMP],
                             filters=[(col.TIMESTAMP, "=", ts)]).to_pylist()
        views = {}
        for row in sorted(rows, key=lambda r: int(r[col.CAMERA])):
            cid = int(row[col.CAMERA])
            if cid not in wanted:
                continue
            if cid not in calib:
                raise DataError(col.component_path(self.dataroot, seg.split, col.CAMERA_CALIBRATION, seg.name),
                                f"has no calibration for camera {col.CAMERA_NAMES.get(cid, cid)}")
            k, cam_to_vehicle = calib[cid]
            name = col.CAMERA_NAMES[cid]
            image, sx, sy = load_image(path, max_image_size, data=row[col.IMAGE])
            views[name] = CameraView(name, f"{seg.name}/{ts}/{name}", image, scale_intrinsic(k, sx, sy), cam_to_vehicle,
                                     col.transform(row[col.IMAGE_POSE], path),
                                     int(round(float(row[col.IMAGE_POSE_TIMESTAMP]) * 1e6)))
        return views
