"""Best-pass timing shared by the reader benches (nuScenes vs the devkit, SemanticKITTI and Waymo vs a plain
read): both sides timed in one run, in alternating passes."""

from __future__ import annotations

import time


def _best_pass_seconds(fn, tokens: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for token in tokens:
            fn(token)
        best = min(best, time.perf_counter() - start)
    return best


def alternating_best_seconds(ours, other, tokens: list[str], repeats: int) -> tuple[float, float]:
    """Best pass time of `ours` and of `other` over `tokens`: both warmed on the first token, then passes
    alternate, so neither side inherits a process state (allocator, caches) that only the other's work left."""
    ours(tokens[0])
    other(tokens[0])
    ours_s = other_s = float("inf")
    for _ in range(repeats):
        other_s = min(other_s, _best_pass_seconds(other, tokens, 1))
        ours_s = min(ours_s, _best_pass_seconds(ours, tokens, 1))
    return ours_s, other_s
