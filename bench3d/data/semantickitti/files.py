"""SemanticKITTI's files, read and written as the semantic-kitti-api reads them (research/metrics-and-formats.md §2).

`sequences/NN/velodyne/NNNNNN.bin`: float32 x, y, z, remission per point. `labels/NNNNNN.label`: uint32, the
semantic id in the low 16 bits, the instance id in the high 16. `calib.txt`: lines `KEY: v1 .. v12` (P0..P3, Tr),
row-major 3x4; `Tr` maps velodyne to the (rectified) cam0 frame. `poses.txt`: per scan, row-major 3x4 pose of
cam0 in the cam0 frame of scan 0. `times.txt`: seconds since the sequence start, one per line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench3d.errors import DataError

CALIB_KEYS = ("P0", "P1", "P2", "P3", "Tr")


def read_scan(path: Path) -> np.ndarray:
    """(N, 4) float32 x, y, z, remission."""
    raw = np.fromfile(path, dtype=np.float32)
    if raw.size % 4:
        raise DataError(path, f"holds {raw.size} float32 values, not a multiple of 4 (x, y, z, remission)",
                        "re-export the scan; a SemanticKITTI .bin is N x 4 float32")
    return raw.reshape(-1, 4)


def write_scan(path: Path, points: np.ndarray) -> None:
    np.ascontiguousarray(points[:, :4], dtype=np.float32).tofile(path)


def read_labels(path: Path, num_points: int) -> np.ndarray:
    """uint32 per point (semantic | instance << 16); the count must match the scan's."""
    labels = np.fromfile(path, dtype=np.uint32)
    if labels.size != num_points:
        raise DataError(path, f"holds {labels.size} labels for a scan of {num_points} points",
                        "labels and velodyne files must come from the same scan")
    return labels


def write_labels(path: Path, semantic: np.ndarray, instance: np.ndarray | None = None) -> None:
    sem = np.asarray(semantic, dtype=np.uint32)
    inst = np.zeros_like(sem) if instance is None else np.asarray(instance, dtype=np.uint32)
    (sem & 0xFFFF | inst << 16).astype(np.uint32).tofile(path)


def _matrix_lines(path: Path, rows: list[str]) -> list[np.ndarray]:
    out = []
    for no, line in enumerate(rows, 1):
        try:
            values = np.array([float(v) for v in line.split()], dtype=np.float64)
        except ValueError:
            raise DataError(path, f"line {no} is not 12 numbers: {line!r}",
                            "one row-major 3x4 matrix per line") from None
        if values.size != 12:
            raise DataError(path, f"line {no} has {values.size} numbers, not 12", "one row-major 3x4 matrix per line")
        out.append(np.vstack([values.reshape(3, 4), [0.0, 0.0, 0.0, 1.0]]))
    return out


def read_calib(path: Path) -> dict[str, np.ndarray]:
    """4x4 matrices by key (the 3x4 values padded with the row 0 0 0 1), as the api's `parse_calibration`."""
    calib = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        key, _, values = line.partition(":")
        calib[key.strip()] = _matrix_lines(path, [values])[0]
    missing = [k for k in ("P2", "Tr") if k not in calib]
    if missing:
        raise DataError(path, f"has no {missing}", f"calib.txt needs the lines {', '.join(CALIB_KEYS)}")
    return calib


def write_calib(path: Path, calib: dict[str, np.ndarray]) -> None:
    path.write_text("".join(f"{k}: {' '.join(f'{v:.12e}' for v in calib[k][:3].reshape(-1))}\n" for k in CALIB_KEYS))


def read_poses(path: Path) -> list[np.ndarray]:
    return _matrix_lines(path, [line for line in path.read_text().splitlines() if line.strip()])


def write_poses(path: Path, poses: list[np.ndarray]) -> None:
    path.write_text("".join(" ".join(f"{v:.12e}" for v in p[:3].reshape(-1)) + "\n" for p in poses))


def read_times(path: Path) -> list[float]:
    return [float(line) for line in path.read_text().split()]


def write_times(path: Path, times: list[float]) -> None:
    path.write_text("".join(f"{t:.6e}\n" for t in times))
