"""What to generate: the release size, sensors and seed, validated with errors that name the option."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from bench3d.errors import ConfigError

VERSIONS = ("v1.0-mini", "v1.0-trainval")


class SynthOptionError(ConfigError):
    """An invalid generator option; `option` is the SynthConfig field at fault."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(message)
MAX_IMAGE_SIDE = 4096


@dataclass(frozen=True)
class SynthConfig:
    """A synthetic nuScenes release. Output depends on every field except `workers`."""

    scenes: int = 10
    samples_per_scene: int = 20
    seed: int = 0
    image_size: tuple[int, int] = (112, 200)  # (height, width); (900, 1600) is the real nuScenes size
    lidar_beams: int = 32
    version: str = "v1.0-mini"
    camera_sweeps: bool = True  # 12 Hz images between keyframes
    lidar_sweeps: bool = True  # 20 Hz sweeps between keyframes
    pixel_sidecars: bool = True  # per-pixel class and depth PNGs under synthetic/
    workers: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.image_size, str):  # "112x200" as on the command line
            object.__setattr__(self, "image_size", parse_image_size(self.image_size))
        elif isinstance(self.image_size, list):  # e.g. read back from release.json
            object.__setattr__(self, "image_size", tuple(self.image_size))
        validate(self)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_size"] = list(self.image_size)
        d.pop("workers")
        return d


def tiny_config(**overrides) -> SynthConfig:
    """The `tiny` preset used by tests and CI: 2 scenes (exactly the devkit's mini_val) x 3 keyframes with all
    sweeps at 56 x 100 pixels; a few seconds on 2 cores."""
    return SynthConfig(**{"scenes": 2, "samples_per_scene": 3, "image_size": (56, 100), "seed": 0, **overrides})


def _int(name: str, value, lo: int, hi: int | None = None, option: str | None = None) -> None:
    option = option or name
    if isinstance(value, bool) or not isinstance(value, int):
        raise SynthOptionError(option, f"{name} must be an integer (got {value!r})")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise SynthOptionError(option, f"{name} must be {bound} (got {value})")


def validate(cfg: SynthConfig) -> None:
    from bench3d.synth.names import max_scenes  # late import: names imports the devkit

    if cfg.version not in VERSIONS:
        raise SynthOptionError("version", f"version must be one of {', '.join(VERSIONS)} (got {cfg.version!r})")
    _int("scenes", cfg.scenes, 1, max_scenes(cfg.version))
    _int("samples_per_scene", cfg.samples_per_scene, 1, 400)
    _int("seed", cfg.seed, 0, 2**32 - 1)
    _int("lidar_beams", cfg.lidar_beams, 1, 256)
    _int("workers", cfg.workers, 1, 256)
    size = cfg.image_size
    if not (isinstance(size, tuple) and len(size) == 2):
        raise SynthOptionError("image_size", f"image_size must be a (height, width) tuple (got {size!r})")
    for part, value in zip(("height", "width"), size):
        _int(f"image_size {part}", value, 8, MAX_IMAGE_SIDE, option="image_size")


def parse_image_size(text: str) -> tuple[int, int]:
    """'112x200' -> (112, 200): height first, as in nuScenes' 900x1600."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
    if not m:
        raise SynthOptionError("image_size",
                               f"image-size must look like HEIGHTxWIDTH, e.g. 112x200 or 900x1600 (got {text!r})")
    h, w = int(m.group(1)), int(m.group(2))
    for part, value in (("height", h), ("width", w)):
        _int(f"image-size {part}", value, 8, MAX_IMAGE_SIDE, option="image_size")
    return h, w
