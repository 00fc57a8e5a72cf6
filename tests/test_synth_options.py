"""Bad options fail early with errors that name the option (API and CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench3d.cli.main import app
from bench3d.errors import ConfigError
from bench3d.synth import SynthConfig, SynthOptionError, parse_image_size


@pytest.mark.parametrize(("kwargs", "option"), [
    ({"scenes": 0}, "scenes"),
    ({"scenes": 11}, "scenes"),  # v1.0-mini has 10 scene names
    ({"samples_per_scene": 0}, "samples_per_scene"),
    ({"version": "v2.0-full"}, "version"),
    ({"lidar_beams": 0}, "lidar_beams"),
    ({"image_size": (4, 200)}, "image_size"),
    ({"image_size": "112by200"}, "image_size"),
    ({"seed": -1}, "seed"),
])
def test_invalid_config_names_the_option(kwargs, option):
    with pytest.raises(SynthOptionError) as err:
        SynthConfig(**kwargs)
    assert err.value.option == option and isinstance(err.value, ConfigError)
    assert option.split("_")[0] in str(err.value).replace("-", "_")


def test_image_size_parsing():
    assert parse_image_size("112x200") == (112, 200)
    assert parse_image_size("900X1600") == (900, 1600)
    assert SynthConfig(image_size="56x100").image_size == (56, 100)
    assert SynthConfig(scenes=11, version="v1.0-trainval").scenes == 11
    with pytest.raises(SynthOptionError, match="HEIGHTxWIDTH"):
        parse_image_size("big")


@pytest.mark.parametrize(("args", "flag"), [
    (["--scenes", "0"], "--scenes"),
    (["--image-size", "112*200"], "--image-size"),
    (["--version", "v9"], "--version"),
    (["--lidar-beams", "0"], "--lidar-beams"),
])
def test_cli_rejects_bad_options(tmp_path: Path, args, flag):
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert flag in result.output
    assert not (tmp_path / "x").exists()


def test_cli_writes_a_release(tmp_path: Path):
    out = tmp_path / "cli"
    args = ["synth", "--out", str(out), "--scenes", "1", "--samples-per-scene", "1", "--image-size", "16x32",
            "--no-camera-sweeps", "--no-lidar-sweeps", "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "v1.0-mini" / "sample.json").is_file()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
