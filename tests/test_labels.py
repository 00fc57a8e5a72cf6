"""Label spaces as data: nuScenes 32 -> 16 (+ ignore), SemanticKITTI learning maps, Waymo types."""

from __future__ import annotations

import numpy as np
import pytest

from bench3d.labels import nuscenes, semantickitti, waymo


def test_nuscenes_fine_classes_are_the_32_lidarseg_names_in_index_order():
    assert len(nuscenes.FINE_CLASSES) == 32
    assert nuscenes.FINE_INDEX["noise"] == 0 and nuscenes.FINE_INDEX["vehicle.ego"] == 31
    assert nuscenes.FINE_INDEX["static.vegetation"] == 30 and nuscenes.FINE_INDEX["flat.driveable_surface"] == 24


def test_nuscenes_fine_to_eval_matches_the_devkit_mapper():
    from nuscenes.eval.lidarseg.utils import LidarsegClassMapper

    class _Stub:  # the mapper only needs the fine name -> index table from a NuScenes object
        lidarseg_name2idx_mapping = dict(nuscenes.FINE_INDEX)

    mapper = LidarsegClassMapper(_Stub())
    assert mapper.coarse_name_2_coarse_idx_mapping == {n: i for i, n in enumerate(nuscenes.EVAL_CLASSES)}
    assert {i: int(c) for i, c in enumerate(nuscenes.FINE_TO_EVAL)} == mapper.fine_idx_2_coarse_idx_mapping


def test_nuscenes_mapping_covers_16_classes_and_ignores_12_fine_ones():
    assert nuscenes.NUM_EVAL_CLASSES == 16
    assert set(nuscenes.FINE_TO_EVAL.tolist()) == set(range(17))
    assert int((nuscenes.FINE_TO_EVAL == 0).sum()) == 12
    assert nuscenes.fine_to_eval(np.array([17, 15, 16, 29])).tolist() == [4, 3, 3, 0]
    with pytest.raises(ValueError, match="outside 0..31"):
        nuscenes.fine_to_eval(np.array([32]))


def test_semantickitti_learning_map_is_the_official_yaml():
    assert len(semantickitti.LEARNING_MAP) == 34 and set(semantickitti.LEARNING_MAP) == set(semantickitti.RAW_LABELS)
    assert set(semantickitti.LEARNING_MAP.values()) == set(range(20))
    assert semantickitti.NUM_EVAL_CLASSES == 19
    # moving classes fold into their static class; other-structure, other-object and outlier are ignored
    for moving, static in {252: 10, 253: 31, 254: 30, 255: 32, 258: 18, 259: 20}.items():
        assert semantickitti.LEARNING_MAP[moving] == semantickitti.LEARNING_MAP[static]
    assert semantickitti.LEARNING_MAP[52] == semantickitti.LEARNING_MAP[99] == semantickitti.LEARNING_MAP[1] == 0
    assert semantickitti.LEARNING_MAP[60] == semantickitti.LEARNING_MAP[40] == 9  # lane marking -> road


def test_semantickitti_inverse_map_round_trips_every_train_id():
    train_ids = np.arange(20)
    raw = semantickitti.train_to_raw(train_ids)
    assert raw.dtype == np.uint32
    assert semantickitti.raw_to_train(raw).tolist() == train_ids.tolist()
    for train_id, raw_id in semantickitti.LEARNING_MAP_INV.items():
        assert semantickitti.RAW_LABELS[raw_id].replace("-", "") == semantickitti.EVAL_CLASSES[train_id].replace("-", "")


def test_semantickitti_label_values_keep_lower_16_bits_and_unknown_ids_become_zero():
    value = np.array([(7 << 16) | 40, 2, 358], dtype=np.uint32)
    assert semantickitti.semantic_part(value).tolist() == [40, 2, 358]
    assert semantickitti.raw_to_train(semantickitti.semantic_part(value)).tolist() == [9, 0, 0]
    with pytest.raises(ValueError, match="outside the evaluator's table"):
        semantickitti.raw_to_train(np.array([359]))


def test_semantickitti_sequences_and_scan_counts():
    assert semantickitti.TRAIN_SEQUENCES == (0, 1, 2, 3, 4, 5, 6, 7, 9, 10)
    assert sum(semantickitti.SCANS_PER_SEQUENCE[s] for s in semantickitti.TRAIN_SEQUENCES) == 19130
    assert semantickitti.SCANS_PER_SEQUENCE[8] == 4071


def test_waymo_types_and_out_of_list_values():
    assert len(waymo.SEGMENTATION_CLASSES) == 23 and waymo.SEGMENTATION_CLASSES[0] == "UNDEFINED"
    assert waymo.SEGMENTATION_CLASSES[22] == "SIDEWALK" and waymo.NUM_EVAL_CLASSES == 22
    assert waymo.to_eval_ids(np.array([-1, 0, 1, 22, 23, 255])).tolist() == [0, 0, 1, 22, 0, 0]
