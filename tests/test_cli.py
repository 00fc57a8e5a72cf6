"""The CLI is a thin layer: commands run, write what they say, and fail with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bench3d.cli.main import app

runner = CliRunner()


def test_list_shows_methods_protocols_datasets() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in ("lima", "scalr", "slidr", "random", "linear_probe", "finetune", "synth", "nuscenes_1pct_draw0"):
        assert name in result.output


def test_show_writes_png(tiny_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "frame.png"
    result = runner.invoke(app, ["show", "--dataroot", str(tiny_release), "--index", "1", "--sweeps", "2",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, ["show", "--dataroot", str(tiny_release), "--index", "7", "--out", str(out)])
    assert bad.exit_code != 0 and "keyframes 0..2" in bad.output


def test_show_draws_the_map_layers_under_the_bev(tiny_release: Path, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    plain, mapped = tmp_path / "plain.png", tmp_path / "mapped.png"
    for out, extra in ((plain, []), (mapped, ["--bev-map"])):
        result = runner.invoke(app, ["show", "--dataroot", str(tiny_release), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (plain, mapped))
    right = slice(a.shape[1] * 3 // 4, None)  # the BEV panel
    assert a.shape == b.shape and np.abs(a[:, right] - b[:, right]).sum() > 0
    # The walkway colour (light blue, alpha 0.6 over white) appears only with the underlay.
    walkway = np.round(255 * (0.4 + 0.6 * np.array([0.55, 0.75, 0.95]))).astype(int)
    has = [int((np.abs(img[:, right] - walkway).max(axis=-1) <= 3).sum()) for img in (a, b)]
    assert has[0] == 0 and has[1] > 100, has


def test_user_errors_are_one_line_with_exit_code_1(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench3d", "run", "--method", "nope", "--protocol", "linear_probe"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: unknown method 'nope'; known methods: cmcr, geomim, imagenet, lima, mim4d, random, random_camera, random_convnext, random_swin, scalr, slidr"
    proc = subprocess.run([sys.executable, "-m", "bench3d", "show", "--dataroot", str(tmp_path / "none")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "dataroot does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_a_misspelt_key_in_a_user_card_is_one_line_naming_card_preset_key(short_cards: Path, tmp_path: Path) -> None:
    import os
    import shutil

    import yaml

    cards = tmp_path / "cards"
    shutil.copytree(short_cards, cards)
    card = cards / "methods" / "scalr.yaml"
    data = yaml.safe_load(card.read_text())
    data["presets"]["tiny"]["voxel_sze"] = data["presets"]["tiny"].pop("voxel_size")
    card.write_text(yaml.safe_dump(data))
    # Nothing may run: the store and dataroot given here would show it if anything did.
    proc = subprocess.run([sys.executable, "-m", "bench3d", "run", "--method", "scalr", "--protocol", "linear_probe",
                           "--results", str(tmp_path / "results"), "--dataroot", str(tmp_path / "no-data")],
                          capture_output=True, text=True, env={**os.environ, "BENCH3D_CARDS": str(cards)})
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"error: {card}: preset 'tiny': unknown key `voxel_sze` (known keys: ")
    assert "voxel_size" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


def test_a_missing_cuda_device_is_an_error_not_a_fallback() -> None:
    import pytest
    import torch

    from bench3d.engine.device import resolve_device
    from bench3d.errors import ConfigError

    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="unsupported device type"):
        resolve_device("meta")
