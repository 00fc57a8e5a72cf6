"""nuScenes label-fraction splits at scene level (no temporal leakage).

Draw 0 is SLidR's rule (valeoai/SLidR `downstream/dataloader_nuscenes.py`): walk the scene table in table
order, keep scenes whose name is in the train split, count them from 1 and keep a scene iff
counter % k == 0, with k = 100 / 20 / 10 / 4 / 1 for 1 / 5 / 10 / 25 / 100 % (7 / 35 / 70 / 175 / 700 of
the 700 official train scenes). 1 % ⊂ 5 % ⊂ 10 % and 5 % ⊂ 25 %, by construction.
Draws d >= 1 are random scene sets of the same size: numpy default_rng(draw_seed("nuscenes", fraction, d))
chooses without replacement from the sorted train names (independent of table order); ids are written sorted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench3d.errors import SplitError
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.rules import draw_seed, keep_every_kth_counting_from_one

SKIP_STEP_BY_FRACTION: dict[float, int] = {0.01: 100, 0.05: 20, 0.10: 10, 0.25: 4, 1.0: 1}

# SLidR's held-out tuning scenes (`CUSTOM_SPLIT` in valeoai/SLidR pretrain/dataloader_nuscenes.py): its
# "verifying" phase uses them, "parametrizing" uses train minus these. Data, copied as a list of names.
SLIDR_HELDOUT_SCENES: tuple[str, ...] = (
    "scene-0008", "scene-0009", "scene-0019", "scene-0029", "scene-0032", "scene-0042", "scene-0045",
    "scene-0049", "scene-0052", "scene-0054", "scene-0056", "scene-0066", "scene-0067", "scene-0073",
    "scene-0131", "scene-0152", "scene-0166", "scene-0168", "scene-0183", "scene-0190", "scene-0194",
    "scene-0208", "scene-0210", "scene-0211", "scene-0241", "scene-0243", "scene-0248", "scene-0259",
    "scene-0260", "scene-0261", "scene-0287", "scene-0292", "scene-0297", "scene-0305", "scene-0306",
    "scene-0350", "scene-0352", "scene-0358", "scene-0361", "scene-0365", "scene-0368", "scene-0377",
    "scene-0388", "scene-0391", "scene-0395", "scene-0413", "scene-0427", "scene-0428", "scene-0438",
    "scene-0444", "scene-0452", "scene-0453", "scene-0459", "scene-0463", "scene-0464", "scene-0475",
    "scene-0513", "scene-0533", "scene-0544", "scene-0575", "scene-0587", "scene-0589", "scene-0642",
    "scene-0652", "scene-0658", "scene-0669", "scene-0678", "scene-0687", "scene-0701", "scene-0703",
    "scene-0706", "scene-0710", "scene-0715", "scene-0726", "scene-0735", "scene-0740", "scene-0758",
    "scene-0786", "scene-0790", "scene-0804", "scene-0806", "scene-0847", "scene-0856", "scene-0868",
    "scene-0882", "scene-0897", "scene-0899", "scene-0976", "scene-0996", "scene-1012", "scene-1015",
    "scene-1016", "scene-1018", "scene-1020", "scene-1024", "scene-1044", "scene-1058", "scene-1094",
    "scene-1098", "scene-1107",
)  # fmt: skip


def skip_step(fraction: float) -> int:
    for known, step in SKIP_STEP_BY_FRACTION.items():
        if abs(known - fraction) < 1e-9:
            return step
    raise SplitError(f"--fraction {fraction}: no SLidR split for this label fraction; use one of "
                     f"{sorted(SKIP_STEP_BY_FRACTION)}")


def slidr_scenes(scene_table_names: Sequence[str], train_names: Sequence[str], fraction: float) -> list[str]:
    """Draw 0: SLidR's every-k-th train scene in scene-table order."""
    train = set(train_names)
    return keep_every_kth_counting_from_one([n for n in scene_table_names if n in train], skip_step(fraction))


def random_scenes(train_names: Sequence[str], count: int, fraction: float, draw: int) -> list[str]:
    """Draw >= 1: `count` scenes chosen at random (documented seed), returned sorted."""
    if draw < 1:
        raise ValueError("random draws are numbered from 1; draw 0 is SLidR's rule")
    pool = sorted(set(train_names))
    rng = np.random.default_rng(draw_seed("nuscenes", fraction, draw))
    chosen = rng.choice(len(pool), size=count, replace=False)
    return sorted(pool[i] for i in chosen)


def nuscenes_manifest(
    scene_table_names: Sequence[str], train_names: Sequence[str], fraction: float, draw: int, source: str
) -> SplitManifest:
    k = skip_step(fraction)
    slidr = slidr_scenes(scene_table_names, train_names, fraction)
    if draw == 0:
        ids, rule = slidr, f"slidr-skip: train scenes in scene-table order, counter from 1, keep counter % {k} == 0"
    else:
        ids = random_scenes(train_names, len(slidr), fraction, draw)
        rule = f"random-scenes: {len(slidr)} train scenes, numpy default_rng(draw_seed('nuscenes', {fraction}, {draw}))"
    return SplitManifest("nuscenes", rule, fraction, draw, tuple(ids), unit="scene", source=source)


def slidr_heldout_manifests(train_names: Sequence[str], source: str) -> dict[str, SplitManifest]:
    """SLidR's 100-scene tuning set ('verifying') and the rest of train ('parametrizing')."""
    train = list(train_names)
    missing = sorted(set(SLIDR_HELDOUT_SCENES) - set(train))
    if missing:
        raise ValueError(f"SLidR held-out scenes missing from the train split: {', '.join(missing[:5])}")
    held = set(SLIDR_HELDOUT_SCENES)
    rest = [n for n in sorted(train) if n not in held]
    return {
        "nuscenes_slidr_verifying": SplitManifest(
            "nuscenes", "slidr-custom-split: SLidR CUSTOM_SPLIT (held-out tuning scenes, 'verifying' phase)",
            len(held) / len(train), 0, tuple(sorted(held)), unit="scene", source=source,
        ),
        "nuscenes_slidr_parametrizing": SplitManifest(
            "nuscenes", "slidr-custom-split complement: train minus CUSTOM_SPLIT ('parametrizing' phase)",
            len(rest) / len(train), 0, tuple(rest), unit="scene", source=source,
        ),
    }  # fmt: skip
