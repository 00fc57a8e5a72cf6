"""File names and byte formats of a nuScenes release (deterministic encoders only)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

JPEG_QUALITY = 90
SIDECAR_DIR = "synthetic"  # everything the devkit does not know about lives here


def data_filename(keyframe: bool, channel: str, logfile: str, timestamp: int) -> str:
    ext = "jpg" if channel.startswith("CAM") else "pcd.bin"
    return f"{'samples' if keyframe else 'sweeps'}/{channel}/{logfile}__{channel}__{timestamp}.{ext}"


def lidarseg_filename(version: str, sd_token: str) -> str:
    return f"lidarseg/{version}/{sd_token}_lidarseg.bin"


def sidecar_filename(kind: str, channel: str, image_filename: str) -> str:
    stem = Path(image_filename).name.removesuffix(".jpg")
    return f"{SIDECAR_DIR}/{kind}/{channel}/{stem}.png"


def _target(root: Path, rel: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_points(root: Path, rel: str, points: np.ndarray) -> None:
    """`.pcd.bin`: little-endian float32 x, y, z, intensity, ring."""
    _target(root, rel).write_bytes(np.ascontiguousarray(points, dtype="<f4").tobytes())


def write_labels(root: Path, rel: str, labels: np.ndarray) -> None:
    _target(root, rel).write_bytes(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())


def write_jpeg(root: Path, rel: str, rgb: np.ndarray) -> None:
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(_target(root, rel), format="JPEG",
                                                                    quality=JPEG_QUALITY)


def write_png(root: Path, rel: str, array: np.ndarray, compress_level: int = 1) -> None:
    """uint8 -> 8-bit grey PNG; uint16 -> 16-bit grey PNG (PIL picks the mode from the dtype)."""
    assert array.dtype in (np.uint8, np.uint16), array.dtype
    Image.fromarray(np.ascontiguousarray(array)).save(_target(root, rel), format="PNG", compress_level=compress_level)


def depth_to_png(depth: np.ndarray) -> np.ndarray:
    """Depth in centimetres as uint16; 0 = no surface (sky) or farther than 655 m."""
    cm = np.where(np.isfinite(depth), np.round(depth * 100.0), 0)
    cm[cm > 65535] = 0
    return cm.astype(np.uint16)


def write_json(path: Path, obj) -> None:
    """Stable JSON: sorted keys, fixed indentation, trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
