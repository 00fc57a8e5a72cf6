"""Streaming samples through a torch DataLoader: the batches of an epoch come from a function of the epoch
(so a resumed run replays the same order), workers prepare samples in parallel, nothing is kept in memory
between batches, and host memory is pinned on CUDA."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

T = TypeVar("T")


class KeyedDataset(Dataset):
    """Sample i is `prepare(keys[i])`, computed when a worker asks for it."""

    def __init__(self, keys: Sequence[Any], prepare: Callable[[Any], Any]) -> None:
        self.keys = list(keys)
        self.prepare = prepare

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> Any:
        return self.prepare(self.keys[index])


class LazySamples(Sequence[T]):
    """Samples loaded when indexed, never kept: what a task hands the loop so memory is flat in the dataset's
    size (DataLoader workers index it in parallel)."""

    def __init__(self, length: int, load: Callable[[int], T]) -> None:
        self._length = length
        self._load = load

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            picked = range(self._length)[index]
            return LazySamples(len(picked), lambda i: self._load(picked[i]))
        if not -self._length <= index < self._length:
            raise IndexError(index)
        return self._load(index % self._length)


class EpochBatches(Sampler[list[int]]):
    """The index batches of one epoch, from `batches_of(epoch)` (a function of (seed, epoch) only)."""

    def __init__(self, batches_of: Callable[[int], list[list[int]]], epoch: int) -> None:
        self.batches = batches_of(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _as_list(batch: list[Any]) -> list[Any]:
    return batch


def epoch_loader(dataset: KeyedDataset, batches_of: Callable[[int], list[list[int]]], epoch: int,
                 workers: int, device: torch.device) -> DataLoader:
    """A loader over one epoch's batches; each batch is the list of prepared samples, in order."""
    return DataLoader(dataset, batch_sampler=EpochBatches(batches_of, epoch), num_workers=workers,
                      collate_fn=_as_list, pin_memory=device.type == "cuda",
                      multiprocessing_context="fork" if workers else None)
