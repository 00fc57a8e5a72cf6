"""Synthetic driving world written as a real nuScenes release (tables, LiDAR, cameras, lidarseg, maps).

    from bench3d.synth import generate_release, SynthConfig
    root = generate_release("data/synth", SynthConfig(scenes=2, samples_per_scene=3))
    NuScenes("v1.0-mini", str(root))
"""

from bench3d.synth.config import SynthConfig, SynthOptionError, parse_image_size, tiny_config
from bench3d.synth.generate import generate_release

__all__ = ["SynthConfig", "SynthOptionError", "generate_release", "parse_image_size", "tiny_config"]
