"""``synth validate <set>``: check a built set against its manifest, one line per problem, exit 1 if any."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Iterator

import soundfile as sf

from .audio import sha256_file, text_lines
from .stops import signals_deferred
from .writer.manifest import labels_sha256
from .writer.shards import INDEX, ShardLayout
from .writer.tar_shards import member_key

REQUIRED = {"id": str, "audio_filepath": str, "duration": (int, float), "sample_rate": int, "num_channels": int,
            "text": str, "segments": list, "conditions": dict, "slice": dict, "synthetic": bool,
            "generator": dict, "recipe": dict, "audio_sha256": str}
SEGMENT = {"speaker": str, "start": (int, float), "end": (int, float), "text": str, "overlap": bool,
           "truncated": bool, "source_id": str}


def validate_set(set_dir: str | Path) -> list[str]:
    """The set's problems, one line each (empty: the set is valid).

    Per item: the schema, the audio decodes to its end, its hash, duration, rate, channels and its own
    ``synthetic`` tag match the line; the labels match ``labels_sha256``; every segment lies inside the
    audio; the RTTM has exactly the manifest's segments. Card and config are present, and no ``.parts/`` or
    ``.*.tmp`` of an interrupted build is left. A line without ``labels_sha256`` (a set from before the hash)
    is one warning: re-render it (``synth render <set> --out <new folder>``) to get the hash; rerunning the
    build into the same folder would keep the old lines (finished items are not rebuilt).
    """
    return check_set(set_dir)[0]


def check_set(set_dir: str | Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a set (see :func:`validate_set`); warnings do not make it invalid."""
    d = Path(set_dir)
    if (d / INDEX).exists():
        return validate_sharded(d), []
    problems: list[str] = []
    manifest = d / "manifest.jsonl"
    if not manifest.exists():
        if (d / ".parts").is_dir():
            return [f"{manifest}: missing, {d / '.parts'} holds the items of an interrupted build; "
                    "rerun the build to finish it"], []
        return [f"{manifest}: missing (is {d} a synth set? run synth build first)"], []
    for name in ("card.md", "card.json", "config.yaml", "segments.rttm"):
        if not (d / name).exists():
            problems.append(f"{d / name}: missing")
    # what is kept per item is its id and audio path, not its line
    n_items, n_segments, listed, ids, unhashed = 0, 0, set(), set(), 0
    for where, it in _objects(manifest, problems):
        schema = _schema_problems(it, where)
        if str(it.get("id")) in ids:
            problems.append(f"{where}: duplicate id {it.get('id')}")
        ids.add(str(it.get("id")))
        if it.get("synthetic") is not True:
            problems.append(f"{where}: synthetic is not true")
        n_items += 1
        n_segments += len(it["segments"]) if isinstance(it.get("segments"), list) else 0
        if isinstance(it.get("audio_filepath"), str):
            listed.add(it["audio_filepath"])
        if schema:  # the checks below read these fields
            problems += schema
            continue
        if "labels_sha256" not in it:
            unhashed += 1
        elif it["labels_sha256"] != labels_sha256(it):
            problems.append(f"{where}: text/segments differ from labels_sha256 (edited after the build); "
                            f"re-render the labels with `synth render {d} --out <new folder>`")
        problems += _check_audio(d, it, where)
    if (d / "segments.rttm").exists():
        n_rttm = _count_lines(d / "segments.rttm")
        if n_rttm != n_segments:
            problems.append(f"{d / 'segments.rttm'}: {n_rttm} lines, manifest has {n_segments} segments")
    if (d / ".parts").exists():
        problems.append(f"{d / '.parts'}: left by an interrupted build; rerun the build to finish it")
    stale = list(d.rglob(".*.tmp"))
    if stale:
        problems.append(f"{stale[0]}: {len(stale)} unfinished temp file(s) from an interrupted write; "
                        "rerun the build to finish it")
    audio_files = {p.relative_to(d).as_posix() for p in (d / "audio").glob("[!.]*")}
    extra = audio_files - listed
    if extra:
        problems.append(f"{d / 'audio'}: {len(extra)} files not in the manifest, e.g. {sorted(extra)[0]}")
    warnings = [f"warning: {manifest}: {unhashed} of {n_items} items have no labels hash (built by an older "
                "synth), so their text and segments are not checked; `synth render <set> --out <new folder>`"
                " writes them with one"] if unhashed else []
    return problems, warnings


def _objects(manifest: Path, problems: list[str]) -> Iterator[tuple[str, dict]]:
    """(``file:line``, item) for each line of a manifest that is a JSON object, read one at a time; any
    other line is added to ``problems``."""
    for n, line in enumerate(text_lines(manifest), 1):
        where = f"{manifest}:{n}"
        try:
            it = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: not JSON ({e.msg})")
            continue
        if not isinstance(it, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        yield where, it


def _schema_problems(it: dict, where: str) -> list[str]:
    return [f"{where}: field {k!r} missing or not {t}" for k, t in REQUIRED.items() if not isinstance(it.get(k), t)]


def _count_lines(path: Path) -> int:
    """Non-blank lines of a text file, read one line at a time."""
    return sum(1 for line in text_lines(path) if line.strip())


def _check_audio(d: Path, it: dict, where: str) -> list[str]:
    path = d / str(it.get("audio_filepath", ""))
    if not path.is_file():
        return [f"{where}: audio {path} missing"]
    out = []
    try:
        sr, channels, frames, decoded, comment = _decode(path)
        reason = None if decoded == frames else f"ends after {decoded} of {frames} frames"
    except (sf.SoundFileError, OSError) as e:
        reason = str(getattr(e, "error_string", e)).removeprefix("Error : ").rstrip(".")
    if reason:  # the other audio checks would only repeat that the file is broken
        out.append(f"{where}: audio {path} does not decode ({reason}); rerun the build to re-render it")
    else:
        if it.get("audio_sha256") and sha256_file(path) != it["audio_sha256"]:
            out.append(f"{where}: audio {path} hash differs from the manifest")
        if sr != it.get("sample_rate") or channels != it.get("num_channels"):
            out.append(f"{where}: audio is {sr} Hz/{channels} ch, manifest says "
                       f"{it.get('sample_rate')} Hz/{it.get('num_channels')} ch")
        if abs(frames / sr - it["duration"]) > 1.0 / sr + 1e-4:
            out.append(f"{where}: audio lasts {frames / sr:.4f} s, manifest says {it.get('duration')}")
        if "synthetic=true" not in comment:
            out.append(f"{where}: audio {path} is not tagged synthetic=true in its metadata")
    return out + _check_segments(it, where)


def _check_segments(it: dict, where: str) -> list[str]:
    out = []
    for s in it.get("segments") if isinstance(it.get("segments"), list) else []:
        s = s if isinstance(s, dict) else {}
        bad = [f"{where}: segment field {k!r} missing or not {t}" for k, t in SEGMENT.items()
               if not isinstance(s.get(k), t)]
        out += bad
        if not bad and not 0 <= s["start"] <= s["end"] <= float(it.get("duration") or 0) + 1e-3:
            out.append(f"{where}: segment {s['start']}-{s['end']} s lies outside the audio")
    return out


def _decode(path: Path) -> tuple[int, int, int, int, str]:
    """Decode the whole file: (rate, channels, frames in the header, frames decoded, comment tag)."""
    with sf.SoundFile(str(path)) as f:
        decoded = sum(len(block) for block in f.blocks(blocksize=1 << 16))
        return f.samplerate, f.channels, f.frames, decoded, f.comment or ""


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
        for where, it in _objects(manifest, problems):
            schema = _schema_problems(it, where)
            problems += schema
            if not schema and it.get("labels_sha256") != labels_sha256(it):
                problems.append(f"{where}: text/segments differ from labels_sha256 (edited after the build)")
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
        n_rttm = _count_lines(rttm) if rttm.exists() else -1
        if n_rttm != sum(len(it.get("segments", [])) for _, it in items):
            problems.append(f"{rttm}: {n_rttm} lines (-1: missing), the shard has "
                            f"{sum(len(it.get('segments', [])) for _, it in items)} segments")
    if (d / "manifest.jsonl").exists():
        n = _count_lines(d / "manifest.jsonl")
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
            with signals_deferred(), sf.SoundFile(io.BytesIO(data)) as f:  # C calls back into Python here
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
    problems, warnings = check_set(a.set_dir)
    for p in problems + warnings:
        print(p)
    d = Path(a.set_dir)
    n = json.loads((d / INDEX).read_text())["n_items"] if (d / INDEX).exists() else \
        _count_lines(d / "manifest.jsonl") if (d / "manifest.jsonl").exists() else 0
    print(f"{'OK' if not problems else 'FAILED'}: {n} items checked, {len(problems)} problems"
          + (f", {len(warnings)} warning" if warnings else ""))
    return 0 if not problems else 1
