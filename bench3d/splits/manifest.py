"""Split manifests: plain text, a `# key: value` header, then one id per line, sealed by a sha256.

    # dataset: nuscenes
    # unit: scene
    # source: devkit splits.train (v1.0-trainval)
    # rule: slidr-skip: ...
    # fraction: 0.01
    # draw: 0
    # version: 1.0
    # count: 7
    # sha256: <hex of the body>
    scene-0171
    ...

The body is the id lines, each ending in "\\n", encoded as UTF-8; the hash covers exactly that, so any
edit to the ids (or their order) is caught by `SplitManifest.read`, which names the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bench3d.errors import DataError

MANIFEST_FORMAT_VERSION = "1.0"
_REQUIRED = ("dataset", "rule", "fraction", "draw", "version", "sha256")
_ORDER = ("dataset", "unit", "source", "rule", "fraction", "draw", "version", "count", "sha256")


def body_sha256(ids: tuple[str, ...] | list[str]) -> str:
    return hashlib.sha256("".join(f"{i}\n" for i in ids).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SplitManifest:
    """A versioned, hashed list of scene / scan / frame ids for one (dataset, fraction, draw)."""

    dataset: str
    rule: str
    fraction: float
    draw: int
    ids: tuple[str, ...]
    unit: str = "scene"
    source: str = ""
    version: str = MANIFEST_FORMAT_VERSION

    def __post_init__(self) -> None:
        for i in self.ids:
            if not i or i != i.strip() or "\n" in i or i.startswith("#"):
                raise ValueError(f"manifest id {i!r} is empty, padded, multi-line or starts with '#'")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"{self.dataset} manifest (fraction {self.fraction}, draw {self.draw}) repeats ids")

    @property
    def sha256(self) -> str:
        return body_sha256(self.ids)

    def header(self) -> dict[str, str]:
        values = {
            "dataset": self.dataset, "unit": self.unit, "source": self.source, "rule": self.rule,
            "fraction": repr(float(self.fraction)), "draw": str(self.draw), "version": self.version,
            "count": str(len(self.ids)), "sha256": self.sha256,
        }  # fmt: skip
        return {k: values[k] for k in _ORDER if values[k] != ""}

    def to_text(self) -> str:
        head = "".join(f"# {key}: {value}\n" for key, value in self.header().items())
        return head + "".join(f"{i}\n" for i in self.ids)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_text(), encoding="utf-8")
        tmp.replace(path)  # atomic: a reader never sees half a manifest
        return path

    @classmethod
    def read(cls, path: str | Path) -> SplitManifest:
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "split manifest is missing")
        header: dict[str, str] = {}
        ids: list[str] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("#"):
                if ids:
                    raise DataError(path, f"line {number}: header line after the first id")
                key, sep, value = line[1:].partition(":")
                if not sep:
                    raise DataError(path, f"line {number}: header lines look like '# key: value'")
                header[key.strip()] = value.strip()
            elif line.strip():
                ids.append(line)
        missing = [k for k in _REQUIRED if k not in header]
        if missing:
            raise DataError(path, f"header lacks {', '.join(missing)}")
        actual = body_sha256(ids)
        if actual != header["sha256"]:
            raise DataError(
                path, f"sha256 of the ids is {actual}, the header says {header['sha256']}",
                "the manifest was edited; rebuild it with `bench3d splits build`",
            )
        if "count" in header and int(header["count"]) != len(ids):
            raise DataError(path, f"header count {header['count']} but {len(ids)} ids")
        try:
            return cls(
                dataset=header["dataset"], rule=header["rule"], fraction=float(header["fraction"]),
                draw=int(header["draw"]), ids=tuple(ids), unit=header.get("unit", "scene"),
                source=header.get("source", ""), version=header["version"],
            )  # fmt: skip
        except ValueError as exc:
            raise DataError(path, str(exc)) from None
