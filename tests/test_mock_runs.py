"""Every registered adapter survives the mock run: pretrain, strict reload, per-point features."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench3d.cards import method_names
from bench3d.harness.mock import mock_run


@pytest.mark.parametrize("method", method_names())
def test_mock_run(method: str, tiny_release: Path) -> None:
    from bench3d.methods import build_method

    out = mock_run(method, tiny_release)
    adapter = build_method(method)
    modalities = {c.modality for c in adapter.backbone_configs().values()}
    if "lidar" in modalities:
        assert 0.0 <= out["tasks"]["lidar/lidar_semseg"] <= 1.0  # other tasks may be registered by other tests
    backbone = next(iter(adapter.backbone_configs()))
    assert 0.0 <= out["tasks"][f"{backbone}/bev_seg"] <= 1.0  # every backbone, camera or LiDAR, reaches the BEV
    assert out["pretrains"] == adapter.needs_pretraining
