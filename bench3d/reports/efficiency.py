"""Efficiency report: step time and peak memory vs frames, beside the published LiMA table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from bench3d.paths import write_text_atomic
from bench3d.results import RunRecord  # noqa: E402


def efficiency_frame(records: list[RunRecord], baseline: str | None = None) -> pd.DataFrame:
    """One row per measured setting, with its time over the same method's 1-frame time, the compared
    component's on/off time ratio and, with `baseline`, its time and memory over the baseline method's at the
    same frames (its default setting: no compared component, or the component on)."""
    rows = []
    for r in records:
        m = r.metrics
        state = m.get("cache_on")
        rows.append({
            "method": r.method, "frames": m["frames"], "status": m["status"],
            "cache": "–" if state is None else f"{m['cache_component']} {'on' if state else 'off'}",
            "step_time_s": m.get("step_time_median_s"), "p25_s": m.get("step_time_p25_s"), "p75_s": m.get("step_time_p75_s"),
            "peak_memory_mb": m.get("peak_allocated_mb", m.get("peak_rss_mb")), "device": r.provenance.device,
            "run_id": r.run_id,
        })
    df = pd.DataFrame(rows).sort_values(["method", "cache", "frames"]).reset_index(drop=True)
    base = df[df.frames == 1].set_index(["method", "cache"])["step_time_s"]
    df["time_vs_1_frame"] = [
        row.step_time_s / base.get((row.method, row.cache), float("nan")) if row.status == "ok" else float("nan")
        for row in df.itertuples()
    ]
    # The compared component's cost: time with it on over time with it off, same method and frames.
    times = {(row.method, row.frames, row.cache): row.step_time_s for row in df.itertuples()}
    df["time_on_vs_off"] = [
        row.step_time_s / times.get((row.method, row.frames, row.cache[:-3] + " off"), float("nan"))
        if row.cache.endswith(" on") and row.status == "ok" else float("nan") for row in df.itertuples()
    ]
    if baseline is not None:
        ref = df[(df.method == baseline) & (df.status == "ok") & ~df.cache.str.endswith(" off")].set_index("frames")
        for col, out in (("step_time_s", "time_vs_baseline"), ("peak_memory_mb", "memory_vs_baseline")):
            df[out] = [row[col] / ref[col].get(row["frames"], float("nan")) if row["status"] == "ok" else float("nan")
                       for _, row in df.iterrows()]
    return df


def published_efficiency() -> pd.DataFrame:
    with resources.files("bench3d.reference").joinpath("published_efficiency.csv").open() as f:
        return pd.read_csv(f)


def write_efficiency_report(records: list[RunRecord], out_dir: Path, baseline: str | None = None
                            ) -> tuple[list[Path], pd.DataFrame]:
    df = efficiency_frame(records, baseline)
    pub = published_efficiency()
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2))
    for (method, bank), g in df[df.status == "ok"].groupby(["method", "cache"]):
        label = f"{method}" + ("" if bank == "–" else f" ({bank})")
        axes[0].errorbar(g.frames, g.step_time_s, yerr=[g.step_time_s - g.p25_s, g.p75_s - g.step_time_s],
                         marker="o", capsize=3, label=label)
        axes[1].plot(g.frames, g.peak_memory_mb, marker="o", label=label)
    for (method, bank), g in df[df.status == "oom"].groupby(["method", "cache"]):
        axes[1].scatter(g.frames, [axes[1].get_ylim()[1]] * len(g), marker="x", color="red", label=f"{method} OOM")
    axes[0].set(xlabel="frames", ylabel="median step time (s)", title="measured: time per step")
    axes[1].set(xlabel="frames", ylabel="peak memory (MB)", title="measured: peak memory per step")
    ax2 = axes[2].twinx()
    # Every published method: hours as solid markers (left axis), memory as hollow ones (right axis).
    for (method, g), colour in zip(pub.groupby("method", sort=False), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        style = "-" if len(g) > 1 else ""
        axes[2].plot(g.frames, g.train_hours, "o" + style, color=colour, label=f"{method}: hours")
        ax2.plot(g.frames, g.memory_gb, "s" + (":" if style else ""), color=colour, mfc="none",
                 label=f"{method}: memory")
    axes[2].set(xlabel="frames", ylabel="pretraining hours (filled)",
                title="published (LiMA paper table, ViT-B, GPU)")
    ax2.set_ylabel("GPU memory, GB (hollow)")
    for ax in axes[:2]:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    # One legend under the panel: inside it would hide published points.
    handles = [h for ax in (axes[2], ax2) for h in ax.get_legend_handles_labels()[0]]
    axes[2].legend(handles, [h.get_label() for h in handles], loc="upper center", bbox_to_anchor=(0.5, -0.16),
                   ncol=2, fontsize=7)
    fig.tight_layout()
    png, md, csv = out_dir / "efficiency.png", out_dir / "efficiency.md", out_dir / "efficiency.csv"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    cols = ["method", "cache", "frames", "status", "step_time_s", "time_vs_1_frame", "time_on_vs_off", "peak_memory_mb",
            *(["time_vs_baseline", "memory_vs_baseline"] if baseline else []), "device"]
    lines = ["**Pretraining cost per step (measured here)**", "",
             "Median step time over the timed steps (data preloaded; GPU synchronised). Peak memory: CUDA "
             "max allocated on a GPU; on CPU the process's peak RSS during the step (it includes the process's "
             "resident baseline). `time_vs_1_frame` divides by the 1-frame time of the same cache setting; "
             "`time_on_vs_off` divides the time with the compared component on by the time with it off (same frames, "
             "same run)." + (f" `*_vs_baseline` divide by {baseline}'s time and memory at the same frames, same run."
                            if baseline else ""), "", "| " + " | ".join(cols) + " |",
             "|" + "---|" * len(cols)]
    for row in df[cols].itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")
    lines += ["", "**Published (LiMA paper, ViT-B, GPU; not measured here)**", "",
              "| method | frames | train hours | memory (GB) |", "|---|---|---|---|"]
    for row in pub.itertuples(index=False):
        lines.append(f"| {row.method} | {row.frames} | {row.train_hours} | {row.memory_gb} |")
    write_text_atomic(md, "\n".join(lines) + "\n")
    write_text_atomic(csv, df.to_csv(index=False))
    return [png, md, csv], df
