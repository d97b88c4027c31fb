"""``synth validate <set>``: check a built set against its manifest.

Checks every item: the schema (required keys and types), the audio file exists, its hash matches, its
duration, rate and channel count match the manifest and its own tags say synthetic; every segment lies
inside the audio; the RTTM has exactly the manifest's segments; card and config are present. Prints one
line per problem and returns their count.
"""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf

from .audio import sha256_file

REQUIRED = {"id": str, "audio_filepath": str, "duration": (int, float), "sample_rate": int, "num_channels": int,
            "text": str, "segments": list, "conditions": dict, "slice": dict, "synthetic": bool,
            "generator": dict, "recipe": dict, "audio_sha256": str}
SEGMENT = {"speaker": str, "start": (int, float), "end": (int, float), "text": str, "overlap": bool,
           "truncated": bool, "source_id": str}


def validate_set(set_dir: str | Path) -> list[str]:
    d = Path(set_dir)
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
    for s in it.get("segments", []):
        for k, t in SEGMENT.items():
            if not isinstance(s.get(k), t):
                out.append(f"{where}: segment field {k!r} missing or not {t}")
        if not 0 <= s.get("start", -1) <= s.get("end", -1) <= float(it.get("duration", 0)) + 1e-3:
            out.append(f"{where}: segment {s.get('start')}-{s.get('end')} s lies outside the audio")
    return out


def main(argv: list[str]) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="synth validate", description="Check a built set against its manifest.")
    ap.add_argument("set_dir")
    a = ap.parse_args(argv)
    problems = validate_set(a.set_dir)
    for p in problems:
        print(p)
    n = sum(1 for l in (Path(a.set_dir) / "manifest.jsonl").read_text().splitlines() if l.strip()) \
        if (Path(a.set_dir) / "manifest.jsonl").exists() else 0
    print(f"{'OK' if not problems else 'FAILED'}: {n} items checked, {len(problems)} problems")
    return 0 if not problems else 1
