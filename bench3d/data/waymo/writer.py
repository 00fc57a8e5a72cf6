"""Write frames of any `Reader` as a Waymo Open Dataset v2 release (what `bench3d synth --format waymo` uses to
write the synthetic world a third way): one Parquet file per segment per component, the official columns.

What is written, per segment (a source scene; train scenes to `training/`, val scenes to `validation/`):
- `lidar`: the TOP laser's two returns as range images [H, W, 4] (range, intensity / 255, elongation 0,
  no-label-zone -1); pixels without a return hold range -1. The source has one return: return 2 is empty.
- `lidar_calibration`: the laser's extrinsic and its beam inclinations (`values`, lowest beam first).
- `lidar_pose`: return 1's per-pixel vehicle pose (roll, pitch, yaw, x, y, z); the source casts a sweep from
  one pose, so every pixel holds the frame's pose.
- `lidar_segmentation`: [H, W, 2] (instance 0, semantic type by `label_map`) for every frame (all are labelled).
- `vehicle_pose`, `camera_image` (JPEG, the image's own vehicle pose and time), `camera_calibration` (5
  cameras, pinhole, no distortion) and `stats`.

No resampling: a point is written only to the pixel whose ray it lies on, and a source whose rays are not on a
range-image grid is refused. Waymo's columns have fixed azimuths in the *vehicle* frame (pi - (2c + 1) pi / W,
whatever the laser's yaw), so the vehicle frame written is the source's ego frame turned about z by the
angle that puts the source's rays on those columns (half a column for the synthetic LiDAR); poses,
extrinsics and points are all expressed in it, so world coordinates are unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from bench3d.data.frame import Frame
from bench3d.data.reader import Reader
from bench3d.data.publish import publish_folder
from bench3d.data.waymo import columns as col
from bench3d.data.waymo.range_image import inclinations as row_inclinations
from bench3d.data.waymo.range_image import pixel_of_direction
from bench3d.errors import ConfigError
from bench3d.synth.generate import check_target

CAMERAS_FROM_NUSCENES = {"CAM_FRONT": "FRONT", "CAM_FRONT_LEFT": "FRONT_LEFT", "CAM_FRONT_RIGHT": "FRONT_RIGHT",
                         "CAM_BACK_LEFT": "SIDE_LEFT", "CAM_BACK_RIGHT": "SIDE_RIGHT"}
GRID_TOLERANCE = 0.05  # of a column / of the beam spacing: how far off its ray a point may be (float rounding)

F32, F64, I8, I32, I64 = pa.float32(), pa.float64(), pa.int8(), pa.int32(), pa.int64()
SHAPE = pa.list_(I32, 3)


def rotation_z(angle: float) -> np.ndarray:
    t = np.eye(4)
    t[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    return t


def vehicle_turn(points: np.ndarray, lidar_to_ego: np.ndarray, width: int) -> float:
    """The angle (about z) from the ego frame to the Waymo vehicle frame that puts the points' azimuths on the
    range image's columns; refuses points that are not on a W-column azimuth grid."""
    step = 2 * np.pi / width
    d = points[:, :3] @ lidar_to_ego[:3, :3].T
    theta = np.arctan2(d[:, 1], d[:, 0])
    off = np.mod(theta - (np.pi - np.pi / width) + step / 2, step) - step / 2  # in [-step/2, step/2)
    turn = float(np.angle(np.mean(np.exp(1j * off * width))) / width)  # circular mean on the column period
    spread = np.abs(np.angle(np.exp(1j * (off - turn) * width))) / width
    if len(spread) and spread.max() > GRID_TOLERANCE * step:
        raise ConfigError(f"the LiDAR's points are not on a grid of {width} azimuth columns (a point is "
                          f"{spread.max() / step:.2f} of a column off): they cannot be written as a Waymo range "
                          "image without resampling; pass the LiDAR's own azimuth step count")
    return turn


def _pixels(points: np.ndarray, extrinsic: np.ndarray, incl: np.ndarray, width: int, where: str
            ) -> tuple[np.ndarray, np.ndarray]:
    """Each point's (row, col), checked to lie on that pixel's ray and to be alone there."""
    xyz = points[:, :3].astype(np.float64)
    rng = np.linalg.norm(xyz, axis=1)
    rows, cols = pixel_of_direction(xyz / rng[:, None], extrinsic, incl, width)
    elevation = np.arcsin(np.clip(xyz[:, 2] / rng, -1, 1))
    spacing = np.min(np.abs(np.diff(incl))) if len(incl) > 1 else 1.0
    if len(rows) and np.abs(elevation - incl[rows]).max() > GRID_TOLERANCE * spacing:
        raise ConfigError(f"{where}: a point's elevation is not one of the {len(incl)} beam inclinations: "
                          "pass the LiDAR's own beam inclinations")
    flat = rows * width + cols
    if len(np.unique(flat)) != len(flat):
        raise ConfigError(f"{where}: two points fall on one range-image pixel; the source is not a single-return "
                          "scan on the range-image grid")
    return rows, cols


def _lists(arrays: list[np.ndarray], kind: pa.DataType) -> pa.Array:
    return pa.array([np.ascontiguousarray(a).reshape(-1) for a in arrays], type=pa.list_(kind))


def _shapes(arrays: list[np.ndarray]) -> pa.Array:
    return pa.array([list(a.shape) for a in arrays], type=SHAPE)


def _transforms(ts: list[np.ndarray]) -> pa.Array:
    return pa.array([np.asarray(t, dtype=np.float64).reshape(-1) for t in ts], type=pa.list_(F64))


class _Segment:
    """Rows of one segment's components, written when the segment ends."""

    def __init__(self, name: str, incl_ascending: np.ndarray, width: int, cameras: dict[str, str],
                 label_map: Callable[[np.ndarray], np.ndarray]) -> None:
        self.name, self.width, self.cameras, self.label_map = name, width, cameras, label_map
        self.incl_ascending = np.asarray(incl_ascending, dtype=np.float64)
        self.incl = row_inclinations(len(self.incl_ascending), 0, 0, self.incl_ascending)  # row 0 the highest
        self.turn: float | None = None
        self.rig: np.ndarray | None = None
        self.frames: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.images: list[tuple[int, int, bytes, np.ndarray, float]] = []
        self.calibrations: dict[int, tuple[np.ndarray, np.ndarray, tuple[int, int]]] = {}

    def add(self, frame: Frame) -> None:
        if self.turn is None:
            self.turn = vehicle_turn(frame.points, frame.lidar_to_ego, self.width)
            self.rig = frame.lidar_to_ego
        elif not np.allclose(frame.lidar_to_ego, self.rig):
            raise ConfigError(f"{frame.token}: the LiDAR moved on the vehicle within scene {self.name}; a Waymo "
                              "segment has one calibration")
        vehicle_from_ego = rotation_z(-self.turn)
        ego_from_vehicle = rotation_z(self.turn)
        h, w = len(self.incl), self.width
        rows, cols = _pixels(frame.points, vehicle_from_ego @ frame.lidar_to_ego, self.incl, w, frame.token)
        ri = np.zeros((h, w, 4), dtype=np.float32)
        ri[..., 0], ri[..., 3] = -1.0, -1.0
        ri[rows, cols, 0] = np.linalg.norm(frame.points[:, :3], axis=1)
        ri[rows, cols, 1] = frame.points[:, 3] / col.INTENSITY_SCALE
        seg = np.zeros((h, w, 2), dtype=np.int32)
        if frame.labels is not None:
            seg[rows, cols, 1] = self.label_map(frame.labels)
        world_from_vehicle = frame.ego_to_global @ ego_from_vehicle
        pose = np.empty((h, w, 6), dtype=np.float32)
        pose[..., :3] = col.euler_of(world_from_vehicle[:3, :3])
        pose[..., 3:] = world_from_vehicle[:3, 3]
        self.frames.append((frame.timestamp, ri, seg, pose, world_from_vehicle))
        for channel, view in frame.cameras.items():
            cid = col.CAMERA_IDS[self.cameras[channel]]
            buf = io.BytesIO()
            Image.fromarray(view.image).save(buf, format="JPEG", quality=95)
            self.images.append((frame.timestamp, cid, buf.getvalue(), view.ego_to_global @ ego_from_vehicle,
                                view.timestamp / 1e6))
            if cid not in self.calibrations:
                extrinsic = vehicle_from_ego @ view.sensor_to_ego @ col.OPTICAL_FROM_WAYMO_CAMERA
                self.calibrations[cid] = (np.asarray(view.intrinsic, dtype=np.float64), extrinsic,
                                          view.image.shape[:2])

    def write(self, folder: Path) -> None:
        seg_name = self.name
        n = len(self.frames)
        ts = pa.array([f[0] for f in self.frames], type=I64)
        keys = {col.SEGMENT: pa.array([seg_name] * n), col.TIMESTAMP: ts}
        top = {col.LASER: pa.array([col.LASER_TOP] * n, type=I8)}
        ranges = [f[1] for f in self.frames]
        empty = [np.full_like(r, -1.0) for r in ranges]
        for r in empty:
            r[..., 1:3] = 0.0
        lidar = {**keys, **top}
        for ret, images in ((1, ranges), (2, empty)):
            lidar[col.range_image_column(col.LIDAR_COMPONENT, ret, "values")] = _lists(images, F32)
            lidar[col.range_image_column(col.LIDAR_COMPONENT, ret, "shape")] = _shapes(images)
        labels = [f[2] for f in self.frames]
        segmentation = {**keys, **top}
        for ret, images in ((1, labels), (2, [np.zeros_like(x) for x in labels])):
            segmentation[col.range_image_column(col.SEGMENTATION_COMPONENT, ret, "values")] = _lists(images, I32)
            segmentation[col.range_image_column(col.SEGMENTATION_COMPONENT, ret, "shape")] = _shapes(images)
        poses = [f[3] for f in self.frames]
        lidar_pose = {**keys, **top,
                      col.range_image_column(col.LIDAR_POSE_COMPONENT, 1, "values"): _lists(poses, F32),
                      col.range_image_column(col.LIDAR_POSE_COMPONENT, 1, "shape"): _shapes(poses)}
        vehicle_pose = {**keys, col.WORLD_FROM_VEHICLE: _transforms([f[4] for f in self.frames])}
        extrinsic = rotation_z(-self.turn) @ self.rig
        calibration = {col.SEGMENT: pa.array([seg_name]), col.LASER: pa.array([col.LASER_TOP], type=I8),
                       col.LIDAR_EXTRINSIC: _transforms([extrinsic]),
                       col.BEAM_MIN: pa.array([self.incl_ascending[0]], type=F64),
                       col.BEAM_MAX: pa.array([self.incl_ascending[-1]], type=F64),
                       col.BEAM_VALUES: pa.array([self.incl_ascending], type=pa.list_(F64))}
        stats = {**keys, "[StatsComponent].time_of_day": pa.array(["Day"] * n),
                 "[StatsComponent].location": pa.array(["location_synthetic"] * n),
                 "[StatsComponent].weather": pa.array(["sunny"] * n)}
        tables = {col.LIDAR: (lidar, 1), col.LIDAR_SEGMENTATION: (segmentation, 1), col.LIDAR_POSE: (lidar_pose, 1),
                  col.VEHICLE_POSE: (vehicle_pose, None), col.LIDAR_CALIBRATION: (calibration, None),
                  col.STATS: (stats, None)}
        if self.images:
            tables[col.CAMERA_IMAGE] = (self._image_columns(), len(self.calibrations))
            tables[col.CAMERA_CALIBRATION] = (self._calibration_columns(), None)
        for tag, (columns, group) in tables.items():
            (folder / tag).mkdir(parents=True, exist_ok=True)
            # One row group per frame for the big components, so a reader's timestamp filter skips the rest.
            pq.write_table(pa.table(columns), folder / tag / f"{seg_name}.parquet", row_group_size=group)

    def _image_columns(self) -> dict[str, pa.Array]:
        n = len(self.images)
        zeros32, zeros64 = pa.array([0.0] * n, type=F32), pa.array([0.0] * n, type=F64)
        out = {col.SEGMENT: pa.array([self.name] * n), col.TIMESTAMP: pa.array([i[0] for i in self.images], type=I64),
               col.CAMERA: pa.array([i[1] for i in self.images], type=I8),
               col.IMAGE: pa.array([i[2] for i in self.images], type=pa.binary()),
               col.IMAGE_POSE: _transforms([i[3] for i in self.images])}
        for axis in "xyz":  # the source gives no velocities: zero, as a parked sensor would report
            out[f"[CameraImageComponent].velocity.linear_velocity.{axis}"] = zeros32
        for axis in "xyz":
            out[f"[CameraImageComponent].velocity.angular_velocity.{axis}"] = zeros64
        out[col.IMAGE_POSE_TIMESTAMP] = pa.array([i[4] for i in self.images], type=F64)
        for name in ("shutter", "camera_trigger_time", "camera_readout_done_time"):
            out[f"[CameraImageComponent].rolling_shutter_params.{name}"] = (
                pa.array([i[4] for i in self.images], type=F64) if name != "shutter" else zeros64)
        return out

    def _calibration_columns(self) -> dict[str, pa.Array]:
        ids = sorted(self.calibrations)
        k = [self.calibrations[c][0] for c in ids]
        values = {"f_u": [m[0, 0] for m in k], "f_v": [m[1, 1] for m in k], "c_u": [m[0, 2] for m in k],
                  "c_v": [m[1, 2] for m in k]}
        out = {col.SEGMENT: pa.array([self.name] * len(ids)), col.CAMERA: pa.array(ids, type=I8)}
        for name in col.INTRINSIC_FIELDS:
            out[col.INTRINSIC + name] = pa.array(values.get(name, [0.0] * len(ids)), type=F64)
        out[col.CAMERA_EXTRINSIC] = _transforms([self.calibrations[c][1] for c in ids])
        out[col.CAMERA_WIDTH] = pa.array([self.calibrations[c][2][1] for c in ids], type=I32)
        out[col.CAMERA_HEIGHT] = pa.array([self.calibrations[c][2][0] for c in ids], type=I32)
        out["[CameraCalibrationComponent].rolling_shutter_direction"] = pa.array([0] * len(ids), type=I8)
        return out


def write_waymo(reader: Reader, out: Path, train_scenes: Sequence[str], val_scenes: Sequence[str],
                label_map: Callable[[np.ndarray], np.ndarray], beam_inclinations: np.ndarray, width: int,
                cameras: dict[str, str] = CAMERAS_FROM_NUSCENES, overwrite: bool = False) -> Path:
    """Write the scenes' keyframes under `out/{training,validation}/<tag>/<scene>.parquet` (atomically: into a
    sibling folder, then renamed). `beam_inclinations` (radians, lowest beam first) and `width` (azimuth steps)
    are the source LiDAR's range-image grid; `cameras` maps source camera channels to Waymo camera names."""
    out = Path(out).resolve()
    check_target(out, overwrite)  # the synthetic release's own rule: only an empty folder, unless overwrite
    unknown = set(cameras.values()) - set(col.CAMERA_IDS)
    if unknown:
        raise ConfigError(f"cameras {sorted(unknown)} are not Waymo cameras ({sorted(col.CAMERA_IDS)})")
    if not val_scenes:
        raise ConfigError("no validation scene: Waymo's `validation` split would be empty")

    def fill(tmp: Path) -> None:
        for split, scenes in (("training", train_scenes), ("validation", val_scenes)):
            for scene in reader.sequences(list(scenes)):
                segment = _Segment(scene.name, beam_inclinations, width, cameras, label_map)
                for token in scene.sample_tokens:
                    segment.add(reader.frame(token, cameras=tuple(cameras), boxes=False))
                segment.write(tmp / split)

    return publish_folder(out, fill)
