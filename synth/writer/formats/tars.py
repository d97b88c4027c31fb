"""``--to nemo-tarred`` and ``--to webdataset``: the set's audio in tar shards of ``shard_size`` items.

``nemo-tarred``: NeMo's tarred layout (:mod:`synth.writer.tar_shards`): ``audio_N.tar`` with ``{key}.flac``
+ ``{key}.json``, ``sharded_manifests/manifest_N.json`` and ``tarred_audio_manifest.json``.
``webdataset``: the same ``audio_N.tar`` shards (keys without dots), no manifests.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import soundfile as sf

from ...audio import atomic_write_text
from ..tar_shards import TarShard, member_key, nemo_entry, shard_manifest_name, shard_name
from . import ExportFormat, register


def export_tars(items: list[dict], out: Path, shard_size: int, manifests: bool) -> list[Path]:
    shards, all_lines = [], []
    for index, start in enumerate(range(0, len(items), shard_size)):
        lines = []
        with TarShard(out / shard_name(index)) as tar:
            for it in items[start: start + shard_size]:
                key, ext = member_key(it["id"]), Path(it["audio_filepath"]).suffix.lstrip(".")
                line = nemo_entry(it, key, ext, index)
                tar.add(key, Path(it["audio_filepath"]).read_bytes(), ext, line)
                lines.append(json.dumps(line, ensure_ascii=False) + "\n")
        if manifests:
            atomic_write_text(out / shard_manifest_name(index), "".join(lines))
        all_lines += lines
        shards.append(out / shard_name(index))
    if manifests:
        atomic_write_text(out / "tarred_audio_manifest.json", "".join(all_lines))
    return shards


def read_tars(out: Path) -> dict[str, dict]:
    """Every sample of the shards, as a WebDataset reader groups members: by key, ``json`` + audio."""
    got: dict[str, dict] = {}
    for shard in sorted(out.glob("audio_*.tar")):
        with tarfile.open(shard) as tar:
            members: dict[str, dict] = {}
            for m in tar.getmembers():
                key, ext = m.name.split(".", 1)
                members.setdefault(key, {})[ext] = tar.extractfile(m).read()
            for parts in members.values():
                line = json.loads(parts.pop("json"))
                samples, sr = sf.read(io.BytesIO(next(iter(parts.values()))), dtype="float32", always_2d=True)
                got[line["id"]] = {"text": line["text"], "samples": samples, "sample_rate": sr}
    return got


@register("nemo-tarred")
class NemoTarred(ExportFormat):
    def write(self, items: list[dict], out: Path, shard_size: int) -> Path:
        export_tars(items, out, shard_size, manifests=True)
        return out / "tarred_audio_manifest.json"

    def read(self, out: Path) -> dict[str, dict]:
        return read_tars(out)


@register("webdataset")
class WebDataset(ExportFormat):
    def write(self, items: list[dict], out: Path, shard_size: int) -> Path:
        return export_tars(items, out, shard_size, manifests=False)[0]

    def read(self, out: Path) -> dict[str, dict]:
        return read_tars(out)
