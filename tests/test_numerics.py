"""Mixed precision and CPU numerics: --amp is part of the run id and of provenance; bf16 runs on CPU;
fp16 without CUDA is refused; denormals are flushed on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench3d.engine.numerics import configure_numerics
from bench3d.errors import ConfigError
from bench3d.harness.runner import Runner
from bench3d.harness.specs import EvalSpec
from bench3d.results import ResultsStore

FT = EvalSpec("random", "finetune", "synth", 0.25, 0, 0)


def test_bf16_training_runs_on_cpu_and_is_another_run(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "store")
    try:
        full = Runner(store, "cpu", harness_release).evaluate(FT)
        mixed = Runner(store, "cpu", harness_release, amp="bf16").evaluate(FT)
    finally:
        configure_numerics(torch.device("cpu"), "off")
    assert full.run_id != mixed.run_id
    assert mixed.provenance.resolved_config["numerics"]["amp"] == "bf16"
    assert full.provenance.resolved_config["numerics"]["amp"] == "off"
    assert 0.0 <= mixed.metrics["miou"] <= 1.0
    assert mixed.metrics["loss_history"] != full.metrics["loss_history"]  # bf16 did change the arithmetic


def test_fp16_needs_cuda_and_denormals_are_flushed_on_cpu() -> None:
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
            configure_numerics(torch.device("cpu"), "fp16")
    configure_numerics(torch.device("cpu"), "off")
    tiny = torch.tensor([1e-42], dtype=torch.float32)  # a float32 denormal
    assert (tiny * 1.0).item() == 0.0
