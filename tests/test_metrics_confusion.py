"""ConfusionMatrix: streaming, merging, serialisation, input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from bench3d.metrics import ConfusionMatrix


def test_counts_rows_are_ground_truth_columns_predictions():
    cm = ConfusionMatrix(3).update(np.array([0, 1, 1, 2]), np.array([0, 2, 1, 2]))
    assert cm.counts.dtype == np.int64
    assert cm.counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert cm.total == 4


def test_matches_sklearn_on_random_labels():
    rng = np.random.default_rng(0)
    gt, pred = rng.integers(0, 17, 10_000), rng.integers(0, 17, 10_000)
    expected = sk_confusion_matrix(gt, pred, labels=np.arange(17))
    assert np.array_equal(ConfusionMatrix(17).update(gt.astype(np.uint8), pred.astype(np.uint8)).counts, expected)


def test_streaming_equals_one_shot_and_merge():
    rng = np.random.default_rng(1)
    gt, pred = rng.integers(0, 5, 1000), rng.integers(0, 5, 1000)
    whole = ConfusionMatrix(5).update(gt, pred)
    streamed = ConfusionMatrix(5)
    for lo in range(0, 1000, 137):
        streamed.update(gt[lo : lo + 137], pred[lo : lo + 137])
    assert streamed == whole
    left = ConfusionMatrix(5).update(gt[:400], pred[:400])
    right = ConfusionMatrix(5).update(gt[400:], pred[400:])
    assert left + right == whole
    left += right
    assert left == whole


def test_torch_tensors_any_shape_and_dtype():
    gt = torch.tensor([[0, 1], [2, 2]], dtype=torch.uint8)
    pred = torch.tensor([[0, 1], [1, 2]], dtype=torch.int64)
    from_torch = ConfusionMatrix(3).update(gt, pred)
    from_numpy = ConfusionMatrix(3).update(gt.numpy().ravel(), pred.numpy().ravel())
    assert from_torch == from_numpy
    assert ConfusionMatrix(3).update(np.array([1], dtype=np.uint64), np.array([2], dtype=np.uint64)).counts[1, 2] == 1


def test_serialises_to_nested_list_and_back():
    cm = ConfusionMatrix(4).update(np.arange(4), np.array([1, 1, 3, 3]))
    rows = cm.to_list()
    assert all(isinstance(v, int) for row in rows for v in row)
    assert ConfusionMatrix.from_list(rows) == cm


def test_counts_view_is_read_only():
    cm = ConfusionMatrix(2)
    with pytest.raises(ValueError):
        cm.counts[0, 0] = 5


@pytest.mark.parametrize(
    ("gt", "pred", "message"),
    [
        ([0, 3], [0, 1], "ground-truth label 3"),
        ([0, 1], [0, -1], "predicted label -1"),
        ([0, 1, 2], [0, 1], "3 ground-truth labels but 2 predictions"),
    ],
)
def test_rejects_bad_input(gt, pred, message):
    with pytest.raises(ValueError, match=message):
        ConfusionMatrix(3).update(np.array(gt), np.array(pred))


def test_rejects_float_labels_and_mismatched_merge():
    with pytest.raises(TypeError):
        ConfusionMatrix(3).update(np.array([0.5]), np.array([1]))
    with pytest.raises(ValueError, match="cannot merge"):
        ConfusionMatrix(3) + ConfusionMatrix(4)
    with pytest.raises(ValueError, match="square"):
        ConfusionMatrix.from_list([[1, 2, 3]])
