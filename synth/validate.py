"""``synth validate <set>``: check a built set against its manifest.

Checks every item: the schema (required keys and types), the audio file exists, its hash matches, its
duration, rate and channel count match the manifest and its own tags say synthetic; every segment lies
inside the audio; the RTTM has exactly the manifest's segments; card and config are present. Prints one
line per problem and returns their count.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import soundfile as sf

from .audio import sha256_file
from .writer.shards import INDEX, ShardLayout
from .writer.tar_shards import member_key

REQUIRED = {"id": str, "audio_filepath": str, "duration": (int, float), "sample_rate": int, "num_channels": int,
            "text": str, "segments": list, "conditions": dict, "slice": dict, "synthetic": bool,
            "generator": dict, "recipe": dict, "audio_sha256": str}
SEGMENT = {"speaker": str, "start": (int, float), "end": (int, float), "text": str, "overlap": bool,
           "truncated": bool, "source_id": str}


def validate_set(set_dir: str | Path) -> list[str]:
    d = Path(set_dir)
    if (d / INDEX).exists():
        return validate_sharded(d)
    problems: list[str] = []
    manifest = d / "manifest.jsonl"
    if not manifest.exists():
        return [f"{manifest}: missing (is {d} a synth set? run synth build first)"]
    for name in ("card.md", "card.json", "config.yaml", "segments.rttm"):
        if not (d / name).exists():
            problems.append(f"{d / name}: missing")
    items, ids = [], set()
    for n, line in enumerate(manifest.read_text().splitlines(), 1):
        where = f"{manifest}:{n}"
        try:
            it = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: not JSON ({e.msg})")
            continue
        for k, t in REQUIRED.items():
            if not isinstance(it.get(k), t):
                problems.append(f"{where}: field {k!r} missing or not {t}")
        if it.get("id") in ids:
            problems.append(f"{where}: duplicate id {it.get('id')}")
        ids.add(it.get("id"))
        if it.get("synthetic") is not True:
            problems.append(f"{where}: synthetic is not true")
        items.append(it)
        problems += _check_audio(d, it, where)
    if (d / "segments.rttm").exists():
        rttm = [l for l in (d / "segments.rttm").read_text().splitlines() if l.strip()]
        expected = sum(len(it.get("segments", [])) for it in items)
        if len(rttm) != expected:
            problems.append(f"{d / 'segments.rttm'}: {len(rttm)} lines, manifest has {expected} segments")
    stale = list(d.rglob(".*.tmp"))
    if stale:
        problems.append(f"{stale[0]}: {len(stale)} unfinished temp file(s) from an interrupted write; rerun the build")
    audio_files = {p.relative_to(d).as_posix() for p in (d / "audio").glob("[!.]*")}
    extra = audio_files - {it.get("audio_filepath") for it in items}
    if extra:
        problems.append(f"{d / 'audio'}: {len(extra)} files not in the manifest, e.g. {sorted(extra)[0]}")
    return problems


def _check_audio(d: Path, it: dict, where: str) -> list[str]:
    path = d / str(it.get("audio_filepath", ""))
    if not path.exists():
        return [f"{where}: audio {path} missing"]
    out = []
    if it.get("audio_sha256") and sha256_file(path) != it["audio_sha256"]:
        out.append(f"{where}: audio {path} hash differs from the manifest")
    info = sf.info(str(path))
    if info.samplerate != it.get("sample_rate") or info.channels != it.get("num_channels"):
        out.append(f"{where}: audio is {info.samplerate} Hz/{info.channels} ch, manifest says "
                   f"{it.get('sample_rate')} Hz/{it.get('num_channels')} ch")
    if abs(info.frames / info.samplerate - float(it.get("duration", -1))) > 1.0 / info.samplerate + 1e-4:
        out.append(f"{where}: audio lasts {info.frames / info.samplerate:.4f} s, manifest says {it.get('duration')}")
    with sf.SoundFile(str(path)) as f:
        if "synthetic=true" not in (f.comment or ""):
            out.append(f"{where}: audio {path} is not tagged synthetic=true in its metadata")
    return out + _check_segments(it, where)


def _check_segments(it: dict, where: str) -> list[str]:
    out = []
    for s in it.get("segments", []):
        for k, t in SEGMENT.items():
            if not isinstance(s.get(k), t):
                out.append(f"{where}: segment field {k!r} missing or not {t}")
        if not 0 <= s.get("start", -1) <= s.get("end", -1) <= float(it.get("duration", 0)) + 1e-3:
            out.append(f"{where}: segment {s.get('start')}-{s.get('end')} s lies outside the audio")
    return out


def validate_sharded(d: Path) -> list[str]:
    """A sharded set (``shards.json``), shard by shard: each shard's manifest lines (schema, unique ids,
    ``shard_id``), its audio (files, or the tar's members: exactly the manifest's, in order, hashes,
    durations, synthetic tags), its RTTM against its segments; the top-level manifest, when written,
    has every item."""
    index = json.loads((d / INDEX).read_text())
    layout = ShardLayout(int(index["shard_size"]), index["container"])
    problems = [f"{d / name}: missing" for name in ("card.md", "card.json", "config.yaml") if not (d / name).exists()]
    ids: set = set()
    for shard in index["shards"]:
        k, manifest = shard["index"], d / shard["manifest"]
        if not manifest.exists():
            problems.append(f"{manifest}: missing (shard {k} unfinished; rerun the build)")
            continue
        items = []
        for n, line in enumerate(manifest.read_text().splitlines(), 1):
            where, it = f"{manifest}:{n}", json.loads(line)
            problems += [f"{where}: field {f!r} missing or not {t}" for f, t in REQUIRED.items() if not isinstance(it.get(f), t)]
            if it.get("id") in ids:
                problems.append(f"{where}: duplicate id {it.get('id')}")
            if layout.container == "tar" and it.get("shard_id") != k:
                problems.append(f"{where}: shard_id {it.get('shard_id')}, the shard is {k}")
            ids.add(it.get("id"))
            items.append((where, it))
        if len(items) != shard["n_items"]:
            problems.append(f"{manifest}: {len(items)} items, the index says {shard['n_items']}")
        if layout.container == "tar":
            problems += _check_tar(d / shard["tar"], items)
        else:
            for where, it in items:
                problems += _check_audio(d, it, where)
        rttm = d / shard["labels"]["rttm"]
        n_rttm = sum(1 for l in rttm.read_text().splitlines() if l.strip()) if rttm.exists() else -1
        if n_rttm != sum(len(it.get("segments", [])) for _, it in items):
            problems.append(f"{rttm}: {n_rttm} lines (-1: missing), the shard has "
                            f"{sum(len(it.get('segments', [])) for _, it in items)} segments")
    if (d / "manifest.jsonl").exists():
        n = sum(1 for l in (d / "manifest.jsonl").read_text().splitlines() if l.strip())
        if n != index["n_items"]:
            problems.append(f"{d / 'manifest.jsonl'}: {n} items, the shards hold {index['n_items']}")
    stale = list(d.rglob(".*.tmp"))
    if stale:
        problems.append(f"{stale[0]}: {len(stale)} unfinished temp file(s) from an interrupted write; rerun the build")
    return problems


def _check_tar(path: Path, items: list[tuple[str, dict]]) -> list[str]:
    """A tar shard holds exactly ``<key>.<fmt>`` + ``<key>.json`` per manifest line, in manifest order."""
    if not path.exists():
        return [f"{path}: missing"]
    out = []
    with tarfile.open(path) as tar:
        names = tar.getnames()
        expected = [n for _, it in items for n in (it.get("audio_filepath"), f"{member_key(it.get('id', ''))}.json")]
        if names != expected:
            return [f"{path}: members {names[:4]}... differ from the manifest's {expected[:4]}..."]
        for where, it in items:  # one member in memory at a time
            data = tar.extractfile(it["audio_filepath"]).read()
            if hashlib.sha256(data).hexdigest() != it.get("audio_sha256"):
                out.append(f"{where}: member {it['audio_filepath']} of {path} hash differs from the manifest")
            with sf.SoundFile(io.BytesIO(data)) as f:
                if f.samplerate != it.get("sample_rate") or f.channels != it.get("num_channels") or \
                        abs(f.frames / f.samplerate - float(it.get("duration", -1))) > 1.0 / f.samplerate + 1e-4:
                    out.append(f"{where}: member {it['audio_filepath']} is {f.samplerate} Hz/{f.channels} ch/"
                               f"{f.frames / f.samplerate:.4f} s, the manifest says otherwise")
                if "synthetic=true" not in (f.comment or ""):
                    out.append(f"{where}: member {it['audio_filepath']} is not tagged synthetic=true in its metadata")
            out += _check_segments(it, where)
    return out


def main(argv: list[str]) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="synth validate", description="Check a built set against its manifest.")
    ap.add_argument("set_dir")
    a = ap.parse_args(argv)
    problems = validate_set(a.set_dir)
    for p in problems:
        print(p)
    d = Path(a.set_dir)
    n = json.loads((d / INDEX).read_text())["n_items"] if (d / INDEX).exists() else \
        sum(1 for l in (d / "manifest.jsonl").read_text().splitlines() if l.strip()) if (d / "manifest.jsonl").exists() else 0
    print(f"{'OK' if not problems else 'FAILED'}: {n} items checked, {len(problems)} problems")
    return 0 if not problems else 1
