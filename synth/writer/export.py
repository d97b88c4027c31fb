"""``synth export <set> --to lhotse|hf|nemo-tarred|webdataset --out DIR``: a built set in the formats
training stacks stream, with its labels and conditions.

* ``lhotse``: ``cuts.jsonl.gz``, a CutSet (``CutSet.from_file``) with one cut per item (a MultiCut for
  stereo calls) and one supervision per segment: speaker label, start, duration, text, channel; the
  segment's flags, its source speaker, word alignments and the item's ``conditions`` in ``custom``. The
  cut's ``custom`` holds the item's conditions, slice and provenance. Recordings point at the set's audio
  by absolute path (Lhotse resolves relative paths against the working directory, not the manifest).
  Needs the ``lhotse`` extra.
* ``hf``: an audiofolder: ``audio/`` (hard links to the set's files, copies across file systems) and
  ``metadata.jsonl`` with a relative ``file_name``, so ``load_dataset("audiofolder", data_dir=DIR)`` loads
  it. Columns: id, text, duration, sample_rate, num_channels, segments (speaker, channel, start, end,
  text, overlap, truncated: one fixed schema), and ``conditions`` and ``slice`` as JSON strings: their keys
  differ between items (a room or a codec adds keys, calls nest per-talker and per-leg blocks) and Arrow
  needs one schema per column; a string keeps every value exactly and ``json.loads`` gives it back.
  The audiofolder builder's audio column needs torchcodec (and FFmpeg's shared libraries, which pip does
  not bring); with pip-installed packages only, ``load_dataset("json", data_files=DIR/metadata.jsonl)``
  loads the same columns and soundfile reads ``DIR/<file_name>`` (the README's recipe, run by
  tests/test_readme.py).
* ``nemo-tarred``: NeMo's tarred layout (:mod:`synth.writer.tar_shards`): ``audio_N.tar`` with
  ``{key}.flac`` + ``{key}.json``, ``sharded_manifests/manifest_N.json`` and ``tarred_audio_manifest.json``.
* ``webdataset``: the same ``audio_N.tar`` shards (keys without dots), no manifests.

Items keep the set's order; ``--shard-size`` items per shard. The output folder must be new or empty.
A set built into tar shards (``output.container=tar``) is read from its shards: for ``lhotse`` and ``hf``
its audio is unpacked into ``DIR/audio/``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
from pathlib import Path

from ..audio import atomic_write_bytes, atomic_write_text
from ..errors import ConfigError
from ..extras import require
from ..outdir import make_folder
from .manifest import audio_files, read_manifest
from .tar_shards import TarShard, member_key, nemo_entry, shard_manifest_name, shard_name

FORMATS = ("lhotse", "hf", "nemo-tarred", "webdataset")
SEGMENT_KEYS = ("speaker", "channel", "start", "end", "text", "overlap", "truncated")


def with_audio_paths(set_dir: Path, items: list[dict], unpack_to: Path) -> list[dict]:
    """The set's manifest lines, each with ``audio_filepath`` made the absolute path of its audio file; a
    tar-sharded set's audio is unpacked into ``unpack_to``."""
    audio = audio_files(set_dir, items, unpack_to)
    return [{**it, "audio_filepath": str(audio[str(it["id"])])} for it in items]


def export_lhotse(set_dir: Path, items: list[dict], out: Path) -> Path:
    lhotse = require("lhotse", "lhotse", "synth export --to lhotse")
    from lhotse.supervision import AlignmentItem

    cuts = []
    for it in items:
        rec = lhotse.Recording.from_file(it["audio_filepath"], recording_id=it["id"])
        rec.sources[0].source = str(Path(rec.sources[0].source).resolve())
        sups = []
        for k, s in enumerate(it["segments"]):
            words = s.get("words")
            sups.append(lhotse.SupervisionSegment(
                id=f"{it['id']}-{k:04d}", recording_id=it["id"], start=s["start"], duration=round(s["end"] - s["start"], 4),
                channel=s.get("channel", 0), text=s["text"], speaker=s["speaker"],
                custom={**{x: s[x] for x in ("role", "source_speaker", "source_id", "overlap", "truncated",
                                              "backchannel", "lost") if x in s},
                        "conditions": it["conditions"]},
                alignment={"word": [AlignmentItem(w["word"], w["start"], round(w["end"] - w["start"], 4))
                                    for w in words]} if words else None))
        cut_cls = lhotse.MultiCut if rec.num_channels > 1 else lhotse.MonoCut
        channel = list(range(rec.num_channels)) if rec.num_channels > 1 else 0
        cuts.append(cut_cls(id=it["id"], start=0.0, duration=rec.duration, channel=channel, recording=rec,
                            supervisions=sups, custom={"conditions": it["conditions"], "slice": it.get("slice", {}),
                                                       "synthetic": True, "generator": it.get("generator")}))
    path = out / "cuts.jsonl.gz"
    text = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in cuts)
    atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))  # mtime=0: the same bytes every run
    return path


def hf_row(it: dict, file_name: str) -> dict:
    return {"file_name": file_name, "id": it["id"], "text": it["text"], "duration": it["duration"],
            "sample_rate": it["sample_rate"], "num_channels": it["num_channels"],
            "segments": [{k: s.get(k, 0 if k == "channel" else None) for k in SEGMENT_KEYS} for s in it["segments"]],
            "conditions": json.dumps(it["conditions"], ensure_ascii=False, sort_keys=True),
            "slice": json.dumps(it.get("slice", {}), ensure_ascii=False, sort_keys=True)}


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst)


def export_hf(set_dir: Path, items: list[dict], out: Path) -> Path:
    rows = []
    for it in items:
        src = Path(it["audio_filepath"])
        rel = f"audio/{src.name}"
        if src != out / rel:  # a tar-sharded set's audio was unpacked right there
            link_or_copy(src, out / rel)
        rows.append(hf_row(it, rel))
    path = out / "metadata.jsonl"
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def export_tars(set_dir: Path, items: list[dict], out: Path, shard_size: int, manifests: bool) -> list[Path]:
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


def export(set_dir: str | Path, to: str, out: str | Path, shard_size: int = 1000) -> Path:
    """Write the set at ``set_dir`` in format ``to`` into ``out``; returns ``out``."""
    if to not in FORMATS:
        raise ConfigError(f"--to {to}: allowed formats are {', '.join(FORMATS)}")
    if shard_size < 1:
        raise ConfigError(f"--shard-size {shard_size}: must be >= 1")
    set_dir, out = Path(set_dir).expanduser().resolve(), Path(out).expanduser().resolve()
    items = read_manifest(set_dir)  # a bad set is reported before anything is written
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} exists and is not empty; choose a new or empty folder")
    make_folder(out, "--out")
    # a set stored in tar shards is unpacked where the export keeps its audio (lhotse, hf) or in a scratch
    # folder removed afterwards (the tar formats copy the bytes into their own shards)
    scratch = out / ".unpacked"
    try:
        items = with_audio_paths(set_dir, items, out / "audio" if to in ("lhotse", "hf") else scratch)
        if to == "lhotse":
            export_lhotse(set_dir, items, out)
        elif to == "hf":
            export_hf(set_dir, items, out)
        else:
            export_tars(set_dir, items, out, shard_size, manifests=to == "nemo-tarred")
    except BaseException:  # the folder was new or empty: leave it so, and the same command can be rerun
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth export", description=__doc__.split("\n\n")[0])
    ap.add_argument("set", help="a folder written by synth build")
    ap.add_argument("--to", required=True, choices=FORMATS)
    ap.add_argument("--out", required=True, help="new or empty output folder")
    ap.add_argument("--shard-size", type=int, default=1000, help="items per tar shard (nemo-tarred, webdataset)")
    a = ap.parse_args(argv)
    out = export(a.set, a.to, a.out, a.shard_size)
    print(f"exported {a.set} as {a.to} to {out}")
    return 0
