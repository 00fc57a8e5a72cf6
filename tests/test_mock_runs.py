"""Every registered adapter survives the mock run: pretrain, strict reload, per-point features."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench3d.cards import method_names
from bench3d.harness.mock import mock_run


@pytest.mark.parametrize("method", method_names())
def test_mock_run(method: str, tiny_release: Path) -> None:
    out = mock_run(method, tiny_release)
    assert out["tasks"] and all(0.0 <= v <= 1.0 for v in out["tasks"].values())
    assert out["pretrains"] == (method != "random")
