"""`bench3d splits ...`: list, show, rebuild and inspect the label-fraction split manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from bench3d.cli._errors import user_errors
from bench3d.cli._options import output_file
from bench3d.errors import ConfigError
from bench3d.paths import write_text_atomic
from bench3d.splits import catalog
from bench3d.splits.manifest import SplitManifest

splits_app = typer.Typer(help="Versioned, hashed split manifests (label fractions and draws).", no_args_is_help=True)
console = Console()


def _manifest_table(title: str, manifests: dict[str, SplitManifest]) -> Table:
    table = Table(title=title)
    table.add_column("name", no_wrap=True)
    for column in ("fraction", "draw", "ids"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("sha256", no_wrap=True)
    for name, m in manifests.items():
        count = f"{len(m.ids)} {m.unit}s"
        table.add_row(name, f"{m.fraction:.4g}", str(m.draw), count, m.sha256[:12])
    return table


@splits_app.command("list")
def list_manifests() -> None:
    """List the manifests shipped with the suite."""
    with user_errors():
        loaded = [(name, catalog.load_shipped(name)) for name in catalog.shipped_names()]
    loaded.sort(key=lambda item: (item[1].dataset, item[1].fraction, item[1].draw, item[0]))
    shipped = dict(loaded)
    console.print(_manifest_table("shipped manifests", shipped))
    console.print(f"folder: {catalog.MANIFEST_DIR}", highlight=False)


@splits_app.command("show")
def show(
    name: Optional[str] = typer.Argument(None, help="Manifest name (see `splits list`); all when omitted."),
    ids: int = typer.Option(10, help="How many ids to print (-1: all)."),
) -> None:
    """Show a shipped manifest's header and its first ids (or list them all when no name is given)."""
    if name is None:
        list_manifests()
        return
    with user_errors():
        manifest = catalog.load_shipped(name)
    for key, value in manifest.header().items():
        console.print(f"[bold]{key}[/bold]: {value}")
    shown = manifest.ids if ids < 0 else manifest.ids[:ids]
    console.print("\n".join(shown), highlight=False)
    if len(shown) < len(manifest.ids):
        console.print(f"... ({len(manifest.ids) - len(shown)} more)")


def _built_set(dataset: str, dataroot: Optional[Path], version: str, official: bool) -> dict[str, SplitManifest]:
    if official:
        return catalog.build_official_set()
    if dataroot is None:
        raise ConfigError("pass --dataroot (a release to build from) or --official (the devkit's lists)")
    if dataset == "nuscenes":
        return catalog.build_release_set(dataroot, version)
    if dataset == "semantickitti":
        from bench3d.labels.semantickitti import TRAIN_SEQUENCES

        paths = sorted(
            str(p.relative_to(dataroot))
            for seq in TRAIN_SEQUENCES
            for p in (dataroot / "sequences" / f"{seq:02d}" / "velodyne").glob("*.bin")
        )
        return catalog.build_semantickitti_set(paths, f"velodyne scans under {dataroot}") if paths else {}
    if dataset == "waymo":
        from bench3d.splits.waymo import read_frame_keys, waymo_manifest

        return {"waymo_1pct_draw0": waymo_manifest(read_frame_keys(dataroot), 0.01, f"lidar_segmentation of {dataroot}")}
    raise ConfigError(f"unknown dataset {dataset!r}; known: nuscenes, semantickitti, waymo")


@splits_app.command("build")
def build(
    dataroot: Optional[Path] = typer.Option(None, help="Dataset root to build from."),
    version: str = typer.Option("v1.0-trainval", help="nuScenes release version folder."),
    dataset: str = typer.Option("nuscenes", help="nuscenes, semantickitti or waymo."),
    official: bool = typer.Option(False, help="Build the shipped set from the devkit lists and scan counts."),
    out: Optional[Path] = typer.Option(None, help="Write the manifests here (nothing is written otherwise)."),
) -> None:
    """Rebuild manifests from a release (its real scene-table order) and report differences from the shipped ones."""
    with user_errors():
        built = _built_set(dataset, dataroot, version, official)
        if not built:
            raise ConfigError(f"nothing to build from {dataroot}")
        differences = catalog.compare_with_shipped(built)
        if out is not None:
            catalog.write_set(built, out)
    console.print(_manifest_table("built manifests", built))
    report = Table(title="compared with the shipped manifests")
    report.add_column("name", no_wrap=True)
    for column in ("status", "only in built", "only in shipped"):
        report.add_column(column)
    for diff in differences:
        status = diff.status + (" (order only)" if diff.order_differs else "")
        report.add_row(diff.name, status, " ".join(diff.only_built[:6]), " ".join(diff.only_shipped[:6]))
    console.print(report)
    if out is not None:
        console.print(f"wrote {len(built)} manifests to {out}")


@splits_app.command("stats")
def stats(
    dataroot: Path = typer.Option(..., help="nuScenes root with lidarseg installed."),
    version: str = typer.Option("v1.0-trainval", help="Release version folder."),
    json_out: Optional[Path] = typer.Option(None, "--json", callback=output_file, help="Write points per class of every manifest here."),
) -> None:
    """Class coverage (points per evaluation class) of every manifest built from this release."""
    import json

    from bench3d.data.nuscenes.tables import NuScenesTables
    from bench3d.labels.nuscenes import EVAL_CLASSES
    from bench3d.splits.coverage import release_coverage

    with user_errors():
        tables = NuScenesTables.load(dataroot, version)
        rows = release_coverage(tables, catalog.build_release_set(dataroot, version))
    summary = Table(title=f"class coverage of {version} manifests")
    summary.add_column("manifest", no_wrap=True)
    for column in ("scenes", "keyframes", "classes"):
        summary.add_column(column, justify="right")
    summary.add_column("missing classes")
    for row in rows:
        present = len(row.points_per_class) - len(row.missing_classes)
        missing = ", ".join(row.missing_classes) if len(row.missing_classes) < 6 else f"{len(row.missing_classes)} classes"
        summary.add_row(row.name, str(row.scenes), str(row.keyframes), f"{present}/{len(row.points_per_class)}", missing)
    console.print(summary)
    draw0 = [row for row in rows if row.name.endswith("pct_draw0")]
    per_class = Table(title="points per class (draw 0)")
    per_class.add_column("class", no_wrap=True)
    for row in draw0:
        per_class.add_column(row.name.removeprefix("nuscenes_").removesuffix("_draw0"), justify="right")
    for name in EVAL_CLASSES[1:]:
        per_class.add_row(name, *(f"{row.points_per_class[name]:,}" for row in draw0))
    console.print(per_class)
    if json_out is not None:
        write_text_atomic(json_out, json.dumps({r.name: {"scenes": r.scenes, "keyframes": r.keyframes,
                                                 "points_per_class": r.points_per_class} for r in rows}, indent=2))
        console.print(f"wrote {json_out}")


def register(app: typer.Typer) -> None:
    app.add_typer(splits_app, name="splits")
