"""Images decoded at the size their consumer needs (JPEG draft mode) keep intrinsics consistent with their
pixels, on a synthetic release and on the real nuScenes keyframe in ../shared/real-nuscenes-frame (those tests
run when that folder is present); and one pretraining step of ScaLR and LiMA (T = 1) runs on the real frame."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.files import scale_intrinsic
from bench3d.data.nuscenes.projection import point_pixel_pairs

REAL = Path(os.environ.get("BENCH3D_REAL_FRAME", Path(__file__).resolve().parents[2] / "shared" / "real-nuscenes-frame"))
needs_real = pytest.mark.skipif(not (REAL / "v1.0-mini").is_dir(), reason=f"no real nuScenes frame at {REAL}")


def _consistent(reader: NuScenesReader, token: str, size: tuple[int, int], factor: int) -> None:
    full = reader.frame(token, labels=False, boxes=False)
    small = reader.frame(token, labels=False, boxes=False, max_image_size=size)
    assert {c.image.shape[:2] for c in small.cameras.values()} == {size}
    a, b = point_pixel_pairs(full), point_pixel_pairs(small)
    uv_full = {(int(p), int(c)): uv for p, c, uv in zip(a.point_index, a.camera_index, a.uv)}
    uv_small = {(int(p), int(c)): uv for p, c, uv in zip(b.point_index, b.camera_index, b.uv)}
    assert uv_small.keys() <= uv_full.keys() and len(uv_small) > 0.95 * len(uv_full)  # only the 1 px border differs
    # Pixel centres map as u' + 0.5 = (u + 0.5) / factor: the same point lands on the same image content.
    err = max(float(np.abs((uv_full[k] + 0.5) / factor - 0.5 - uv_small[k]).max()) for k in uv_small)
    assert err < 1e-3
    for name, cam in small.cameras.items():  # the drafted pixels are the full image's block means
        big = full.cameras[name].image.astype(np.float64)
        h, w = size
        blocks = big[:h * factor, :w * factor].reshape(h, factor, w, factor, 3).mean(axis=(1, 3))
        assert np.abs(blocks - cam.image).mean() < 3.0, name


def test_scale_intrinsic_keeps_pixel_centres() -> None:
    k = np.array([[1266.4, 0.0, 816.3], [0.0, 1266.4, 491.5], [0.0, 0.0, 1.0]])
    s = scale_intrinsic(k, 0.25, 0.25)
    assert s[0, 0] == pytest.approx(316.6) and s[0, 2] == pytest.approx((816.3 + 0.5) / 4 - 0.5)
    assert s[1, 2] == pytest.approx((491.5 + 0.5) / 4 - 0.5) and scale_intrinsic(k, 1.0, 1.0) is k


def test_synthetic_images_decode_at_half_size_with_matching_intrinsics(tiny_release: Path) -> None:
    reader = NuScenesReader(tiny_release, "v1.0-mini")
    token = reader.sequences()[0].sample_tokens[0]
    h, w = reader.frame(token, labels=False, boxes=False).cameras["CAM_FRONT"].image.shape[:2]
    _consistent(reader, token, (h // 2, w // 2), 2)
    # Not larger than asked: returned as it is.
    same = reader.frame(token, labels=False, boxes=False, max_image_size=(h, w)).cameras["CAM_FRONT"]
    assert same.image.shape[:2] == (h, w)


@needs_real
def test_real_frame_decodes_at_a_quarter_with_matching_intrinsics() -> None:
    reader = NuScenesReader(REAL, "v1.0-mini")
    (token,) = [t for seq in reader.sequences() for t in seq.sample_tokens]
    assert reader.frame(token, labels=False, boxes=False).cameras["CAM_FRONT"].image.shape == (900, 1600, 3)
    _consistent(reader, token, (225, 400), 4)


@needs_real
@pytest.mark.parametrize(("method", "overrides", "image_size"),
                         [("scalr", None, [225, 400]), ("lima", {"frames": 1}, [225, 400]),
                          ("mim4d", None, [112, 200])])  # MIM4D: 3 frames, the missing sweeps padded
def test_one_pretraining_step_on_the_real_frame(method: str, overrides: dict | None, image_size: list[int],
                                                tmp_path: Path) -> None:
    from bench3d.harness.frame_step import pretraining_step

    out = pretraining_step(REAL, method, overrides, cache=tmp_path / "cache")
    assert out["points"] == 34688 and out["image_size"] == image_size  # the tiny preset's image input
    assert math.isfinite(out["loss"]) and out["loss"] > 0 and out["peak_rss_mb"] > 0
