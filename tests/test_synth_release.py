"""Release-level guarantees: determinism, true velocities, every nuScenes-lidarseg class, naming, atomicity."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from bench3d.labels.nuscenes import EVAL_CLASSES, fine_to_eval
from bench3d.synth import SynthConfig, generate_release, tiny_config


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_release_whatever_the_worker_count(tiny_release: Path, tmp_path: Path):
    again = generate_release(tmp_path / "again", tiny_config(workers=1))
    first, second = digests(tiny_release), digests(again)
    assert len(first) > 500 and first == second


def test_different_seed_differs(tiny_release: Path, tmp_path: Path):
    other = generate_release(tmp_path / "other", tiny_config(seed=1, camera_sweeps=False, lidar_sweeps=False))
    a, b = digests(tiny_release), digests(other)
    assert a["v1.0-mini/category.json"] == b["v1.0-mini/category.json"]  # the taxonomy is fixed
    assert a["v1.0-mini/sample.json"] != b["v1.0-mini/sample.json"]
    data_a = {h for k, h in a.items() if k.startswith(("samples/", "lidarseg/"))}
    data_b = {h for k, h in b.items() if k.startswith(("samples/", "lidarseg/"))}
    assert len(data_b) == 2 * 3 * 8 and not data_a & data_b


def eval_class_counts(nusc, root: Path, scene) -> np.ndarray:
    counts = np.zeros(len(EVAL_CLASSES), dtype=np.int64)
    tok = scene["first_sample_token"]
    while tok:
        sample = nusc.get("sample", tok)
        sd = sample["data"]["LIDAR_TOP"]
        labels = np.fromfile(root / nusc.get("lidarseg", sd)["filename"], dtype=np.uint8)
        counts += np.bincount(fine_to_eval(labels), minlength=len(EVAL_CLASSES))
        tok = sample["next"]
    return counts


def test_every_scene_of_the_tiny_release_has_all_16_classes(tiny_nusc, tiny_release: Path):
    for scene in tiny_nusc.scene:
        counts = eval_class_counts(tiny_nusc, tiny_release, scene)
        missing = [EVAL_CLASSES[i] for i in range(1, len(EVAL_CLASSES)) if counts[i] == 0]
        assert not missing, (scene["name"], missing)


@pytest.mark.slow
def test_default_size_release_has_all_16_classes_in_every_scene(tmp_path: Path):
    """10 scenes, as `bench3d synth` makes by default (fewer keyframes, no sweeps, small images: ~10 s)."""
    from nuscenes import NuScenes

    root = generate_release(tmp_path / "ten", SynthConfig(scenes=10, samples_per_scene=2, image_size=(28, 50),
                                                          camera_sweeps=False, lidar_sweeps=False))
    nusc = NuScenes("v1.0-mini", str(root), verbose=False)
    assert len(nusc.scene) == 10
    for scene in nusc.scene:
        counts = eval_class_counts(nusc, root, scene)
        assert (counts[1:] > 0).all(), (scene["name"], [EVAL_CLASSES[i] for i in range(1, 17) if counts[i] == 0])


def test_box_velocity_matches_true_speed(tiny_nusc, tiny_release: Path):
    agents = json.loads((tiny_release / "synthetic" / "agents.json").read_text())
    checked = 0
    for ann in tiny_nusc.sample_annotation:
        meta = agents[ann["instance_token"]]
        if not (ann["prev"] and ann["next"]):
            continue
        v = tiny_nusc.box_velocity(ann["token"])
        if not meta["moving"]:
            assert np.allclose(v, 0.0, atol=1e-5)
        elif meta["straight_path"]:
            assert np.linalg.norm(v[:2]) == pytest.approx(meta["speed"], rel=1e-3, abs=1e-3)
            yaw = 2 * np.arctan2(ann["rotation"][3], ann["rotation"][0])
            assert np.dot(v[:2], [np.cos(yaw), np.sin(yaw)]) == pytest.approx(meta["speed"], rel=1e-3, abs=1e-3)
            checked += 1
    assert checked >= 5


def test_visibility_levels_vary(tiny_nusc):
    levels = {a["visibility_token"] for a in tiny_nusc.sample_annotation}
    assert {"1", "4"} <= levels


def test_trainval_uses_official_train_names(tmp_path: Path):
    from nuscenes import NuScenes
    from nuscenes.utils.splits import create_splits_scenes

    root = generate_release(tmp_path / "tv", SynthConfig(scenes=2, samples_per_scene=1, version="v1.0-trainval",
                                                         image_size=(16, 32), camera_sweeps=False, lidar_sweeps=False))
    nusc = NuScenes("v1.0-trainval", str(root), verbose=False)
    assert [s["name"] for s in nusc.scene] == create_splits_scenes()["train"][:2]
    assert (root / "lidarseg" / "v1.0-trainval").is_dir()


def test_sweeps_off_writes_the_same_keyframes(tmp_path: Path):
    """The SemanticKITTI and Waymo writers render the world without sweeps: its keyframes must be the world's."""
    from bench3d.data.nuscenes import NuScenesReader

    cfg = SynthConfig(scenes=1, samples_per_scene=2, image_size=(16, 32), workers=1, seed=3)
    full = NuScenesReader(generate_release(tmp_path / "full", cfg))
    bare = NuScenesReader(generate_release(tmp_path / "bare", dataclasses.replace(cfg, camera_sweeps=False,
                                                                                    lidar_sweeps=False)))
    for a_token, b_token in zip(full.sequences()[0].sample_tokens, bare.sequences()[0].sample_tokens, strict=True):
        a, b = full.frame(a_token, cameras=("CAM_FRONT",)), bare.frame(b_token, cameras=("CAM_FRONT",))
        np.testing.assert_array_equal(b.points, a.points)
        np.testing.assert_array_equal(b.labels, a.labels)
        np.testing.assert_array_equal(b.cameras["CAM_FRONT"].image, a.cameras["CAM_FRONT"].image)
        assert [x.center.tolist() for x in b.boxes] == [x.center.tolist() for x in a.boxes]


def test_scene_names_take_mini_val_first():
    from bench3d.synth.names import scene_names

    assert scene_names("v1.0-mini", 3) == ["scene-0103", "scene-0916", "scene-0061"]
    assert len(set(scene_names("v1.0-mini", 10))) == 10
    assert scene_names("v1.0-trainval", 1) == ["scene-0001"]


def test_refuses_to_overwrite_and_publishes_atomically(tmp_path: Path, monkeypatch):
    from bench3d.synth import SynthOptionError
    from bench3d.synth import generate as gen

    small = SynthConfig(scenes=1, samples_per_scene=1, image_size=(16, 32), camera_sweeps=False, lidar_sweeps=False,
                        workers=1)
    target = tmp_path / "rel"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(SynthOptionError, match="not empty") as err:
        generate_release(target, small)
    assert err.value.option == "out" and (target / "keep.txt").exists()
    generate_release(target, small, overwrite=True)
    assert not (target / "keep.txt").exists() and (target / "v1.0-mini" / "scene.json").exists()

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-way")

    monkeypatch.setattr(gen, "run_scene", boom)
    with pytest.raises(RuntimeError):
        generate_release(tmp_path / "never", small)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rel"]  # no target, no partial folder
