"""Sharded output (``output.shard_size=N``): items grouped in id order into shards of N, each a unit of work one
worker renders and writes whole, so a killed build resumes shard by shard (a finished shard is never
rewritten); with ``output.container=tar`` a million-item set is a few thousand files. Layout: :class:`ShardLayout`.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..audio import atomic_open, atomic_write_bytes
from ..errors import ConfigError
from .paths import inside
from .item import EncodedItem, Job, manifest_line, write_stems
from .labels import LabelWriter, label_names
from .manifest import INDEX
from .tar_shards import TarShard, member_key, nemo_entry, shard_manifest_name, shard_name

CONCAT_LIMIT = 100_000


@dataclass(frozen=True)
class ShardLayout:
    """How a sharded set is stored: items per shard and the container (loose ``files`` or ``tar``).

    ``output.container=files``::

        audio/<id>.flac                          the items' audio, as in an unsharded set
        manifests/manifest_00000.jsonl ...       each shard's manifest lines (the same lines an unsharded set has)

    ``output.container=tar`` (NeMo's tarred layout, WebDataset-readable; see :mod:`.tar_shards`)::

        audio_0.tar ...                          <key>.flac + <key>.json (its manifest line) per item
        sharded_manifests/manifest_0.json ...    lines with ``audio_filepath`` = member name and ``shard_id``

    Both: ``labels/segments_00000.rttm`` (and ``words_``, ``references_`` .stm/.seglst.json) per shard, and
    ``shards.json``, the index of shards. Sets of at most ``CONCAT_LIMIT`` items also get the top-level
    ``manifest.jsonl`` and label files (the shards' concatenation); bigger sets are read shard by shard.
    A shard is finished when its manifest exists: it is renamed into place after its audio and labels.
    """

    size: int
    container: str = "files"

    @classmethod
    def of(cls, cfg: dict) -> "ShardLayout | None":
        """The layout ``cfg``'s ``output`` asks for, or None for an unsharded set."""
        out = cfg.get("output") or {}
        size = int(out.get("shard_size") or 0)
        return cls(size, out.get("container") or "files") if size > 0 else None

    def manifest(self, index: int) -> str:
        return shard_manifest_name(index) if self.container == "tar" else f"manifests/manifest_{index:05d}.jsonl"

    def split(self, jobs: list[Job]) -> list[tuple[int, list[Job]]]:
        return [(k, jobs[i: i + self.size]) for k, i in enumerate(range(0, len(jobs), self.size))]

    def done(self, out_dir: Path, index: int) -> bool:
        return (out_dir / self.manifest(index)).exists() and \
            (self.container != "tar" or (out_dir / shard_name(index)).exists())


def write_shard(out_dir: Path, layout: ShardLayout, index: int, items: Iterable[EncodedItem]) -> list[tuple[str, float]]:
    """Store a shard's items as they are rendered (audio files or one tar), then its labels, then its
    manifest; everything goes to temp names first, so a killed worker leaves no shard that looks done.
    Returns (id, duration) per item."""
    done = []
    with ExitStack() as stack:
        manifest = stack.enter_context(atomic_open(out_dir / layout.manifest(index)))
        labels = stack.enter_context(LabelWriter(out_dir, label_names(index)))
        tar = stack.enter_context(TarShard(out_dir / shard_name(index))) if layout.container == "tar" else None
        for item in items:
            fmt = item.info.fmt
            if tar is not None:
                key = member_key(item.job.item_id)
                line = nemo_entry(manifest_line(item, "", item.sha256), key, fmt, index)
                tar.add(key, item.audio, fmt, line)
            else:
                rel = f"audio/{item.job.item_id}.{fmt}"
                atomic_write_bytes(inside(out_dir, rel), item.audio)
                line = manifest_line(item, rel, item.sha256)
            write_stems(out_dir, item)
            manifest.write(json.dumps(line, ensure_ascii=False) + "\n")
            labels.add(line)
            done.append((line["id"], line["duration"]))
    return done


def shard_lines(out_dir: Path, layout: ShardLayout, n_shards: int) -> Iterator[str]:
    """Every finished shard's manifest lines (JSON text), in shard order, one at a time."""
    for k in range(n_shards):
        with open(out_dir / layout.manifest(k), encoding="utf-8") as f:
            yield from (l.rstrip("\n") for l in f if l.strip())


def start_layout(out_dir: Path, layout: ShardLayout | None, n_items: int) -> None:
    """Refuse to mix layouts in one ``out_dir`` (item bytes do not depend on the layout, so the config hash
    does not tell them apart); a sharded build writes its index first."""
    index = out_dir / INDEX
    old = json.loads(index.read_text()) if index.exists() else None
    was = f"shard_size={old['shard_size']} container={old['container']}" if old else "unsharded"
    now = f"shard_size={layout.size} container={layout.container}" if layout else "unsharded"
    started = old is not None or (out_dir / "manifest.jsonl").exists() or (out_dir / ".parts").exists()
    if started and was != now:
        raise ConfigError(f"out_dir={out_dir} holds a set stored {was}, now {now}; "
                          "choose a new out_dir or build with the old output settings")
    if layout is not None:
        write_index(out_dir, layout, [len(js) for _, js in layout.split([None] * n_items)])


def write_index(out_dir: Path, layout: ShardLayout, counts: list[int]) -> None:
    shards = [{"index": k, "manifest": layout.manifest(k), "labels": label_names(k), "n_items": n,
               **({"tar": shard_name(k)} if layout.container == "tar" else {})} for k, n in enumerate(counts)]
    with atomic_open(out_dir / INDEX) as f:
        json.dump({"shard_size": layout.size, "container": layout.container, "n_items": sum(counts),
                   "n_shards": len(counts), "shards": shards}, f, indent=1)
        f.write("\n")
