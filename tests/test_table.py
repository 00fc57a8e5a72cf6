"""Comparison tables: mean +- t-based 95 % CI over seeds x draws, best in bold, reference rows apart."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench3d.reports.comparison import write_comparison
from bench3d.reports.stats import mean_ci95
from bench3d.results import ResultsStore
from _records import make_record


def test_mean_ci95_known_values() -> None:
    mean, half, n = mean_ci95([0.5, 0.6, 0.7])
    # t(0.975, 2) = 4.302653, s = 0.1, half = 4.302653 * 0.1 / sqrt(3)
    assert (n, round(mean, 12)) == (3, 0.6)
    assert math.isclose(half, 4.302652729911275 * 0.1 / math.sqrt(3), rel_tol=1e-9)
    assert math.isnan(mean_ci95([0.4])[1])


def test_table_from_store(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results")
    for seed, (r, s) in enumerate([(0.30, 0.50), (0.32, 0.52), (0.31, 0.51)]):
        store.write(make_record(f"rand{seed}", "random", seed, r))
        store.write(make_record(f"scalr{seed}", "scalr", seed, s))
    paths, md = write_comparison(tmp_path / "results", "synth", tmp_path / "reports", ["ScaLR"])
    assert all(p.is_file() for p in paths)
    lines = md.splitlines()
    scalr_row = next(line for line in lines if line.startswith("| scalr |"))
    random_row = next(line for line in lines if line.startswith("| random |"))
    assert "**51.00 ± 2.48**" in scalr_row and "**" not in random_row
    # Published rows sit in their own block, after the measured ones, and are labelled as such.
    ref_at = md.index("Published reference")
    assert md.index("| scalr |") < ref_at < md.index("| ScaLR (ViT-S) | 49.66 |")
    tex = paths[1].read_text()
    assert r"\textbf{51.00 $\pm$ 2.48}" in tex and "Published (reference" in tex
    runs = paths[3].read_text()
    assert "scalr0,scalr1,scalr2" in runs  # every cell traces back to its run ids


def test_rows_split_by_teacher_components_and_settings(tmp_path: Path) -> None:
    """A method's runs share a row only if they ran alike: another teacher, a component off or a setting
    changed (an ablation's variants in the same store) each get their own, labelled row."""
    from bench3d.methods import build_method

    def resolved(synthetic: bool = True, components: dict | None = None, **overrides) -> dict:
        return build_method("slidr", components=components, overrides=overrides or None,
                            synthetic_data=synthetic).resolved_config()

    store = ResultsStore(tmp_path / "results")
    for seed in range(2):
        store.write(make_record(f"app{seed}", "slidr", seed, 0.40 + seed / 100, resolved()))
        store.write(make_record(f"eff{seed}", "slidr", seed, 0.50 + seed / 100, resolved(synthetic=False)))
        store.write(make_record(f"abl{seed}", "slidr", seed, 0.30, resolved(epochs=4)))
    _, md = write_comparison(tmp_path / "results", "synth", tmp_path / "reports", [])
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines() if line.startswith("| slidr")}
    assert set(rows) == {"slidr (appearance)", "slidr (efficientnet_lite0)", "slidr (appearance; epochs=4)"}
    assert "40.50" in rows["slidr (appearance)"] and "50.50" in rows["slidr (efficientnet_lite0)"]


def test_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="run `bench3d run` first"):
        write_comparison(tmp_path, "synth", tmp_path / "reports")
