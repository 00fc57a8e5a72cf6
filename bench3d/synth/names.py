"""Scene names and splits, so the release works with the devkit's predefined splits (mini_val, train, ...)."""

from __future__ import annotations

from nuscenes.utils.splits import create_splits_scenes


def max_scenes(version: str) -> int:
    s = create_splits_scenes()
    return len(s["mini_val"] + s["mini_train"]) if version.endswith("mini") else len(s["train"] + s["val"])


def scene_names(version: str, n: int) -> list[str]:
    """Names in generation order: mini uses mini_val first (so 2 scenes already form `mini_val`), then mini_train;
    trainval uses train then val, in the devkit's order."""
    s = create_splits_scenes()
    pool = s["mini_val"] + s["mini_train"] if version.endswith("mini") else s["train"] + s["val"]
    if not 1 <= n <= len(pool):
        raise ValueError(f"{version} has {len(pool)} scene names; cannot make {n} scenes")
    return pool[:n]


def splits(version: str, names: list[str]) -> dict[str, list[str]]:
    """splits.json (devkit >= 1.2.0 custom splits). `train` / `val` follow the official lists; the `synth_*`
    copies have names the devkit does not predefine, so detection / tracking evaluation reads them from here."""
    s = create_splits_scenes()
    train_pool, val_pool = (s["mini_train"], s["mini_val"]) if version.endswith("mini") else (s["train"], s["val"])
    train = sorted(n for n in names if n in set(train_pool))
    val = sorted(n for n in names if n in set(val_pool))
    return {"train": train, "val": val, "synth_train": train, "synth_val": val}
