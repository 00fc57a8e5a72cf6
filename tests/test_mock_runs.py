"""Every registered adapter survives the mock run: pretrain, strict reload, per-point features."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench3d.cards import method_names
from bench3d.harness.mock import mock_run


@pytest.mark.parametrize("method", method_names())
def test_mock_run(method: str, tiny_release: Path) -> None:
    out = mock_run(method, tiny_release)
    assert 0.0 <= out["tasks"]["lidar/lidar_semseg"] <= 1.0  # other tasks may be registered by other tests
    assert out["pretrains"] == (method != "random")
