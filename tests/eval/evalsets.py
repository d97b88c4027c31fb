"""Tiny built sets for eval tests: FLAC files written with soundfile + a manifest.jsonl written by hand
(same schema as DESIGN.md "Output: one set"): faster than a build, and the test sets every label itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf


def write_set(root: Path, items: list[dict], card: str = "# Test set\nSYNTHETIC\n") -> Path:
    """``items``: dicts with id, text and optionally audio (np array, (T,) or (C, T)), sr, slice,
    segments, conditions, pair_id. Missing audio -> a 0.3 s 440 Hz tone at 8 kHz."""
    root = Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    lines = []
    for it in items:
        sr = it.pop("sr", 8000)
        audio = it.pop("audio", None)
        if audio is None:
            t = np.arange(int(0.3 * sr)) / sr
            audio = 0.1 * np.sin(2 * np.pi * 440 * t)
        audio = np.asarray(audio, dtype=np.float32)
        data = audio.T if audio.ndim == 2 else audio
        rel = f"audio/{it['id']}.flac"
        sf.write(root / rel, data, sr, format="FLAC", subtype="PCM_16")
        rec = {"id": it["id"], "audio_filepath": rel, "duration": len(data) / sr, "sample_rate": sr,
               "num_channels": 1 if audio.ndim == 1 else audio.shape[0], "text": it["text"],
               "segments": it.get("segments", [{"speaker": "A", "start": 0.0, "end": len(data) / sr,
                                                "text": it["text"], "overlap": False, "truncated": False,
                                                "backchannel": False, "lost": False,
                                                "source_id": it.get("source_id", it["id"])}]),
               "conditions": it.get("conditions", {}), "slice": it.get("slice", {}),
               "synthetic": True, "generator": {"name": "synth", "version": "test"}}
        if "pair_id" in it:
            rec["pair_id"] = it["pair_id"]
        lines.append(json.dumps(rec))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    (root / "card.md").write_text(card)
    (root / "card.json").write_text(json.dumps({"synthetic": True}))
    return root


SENTENCES = ["the cat sat on the mat", "go forward ten meters", "she sells sea shells by the shore",
             "a quick brown fox jumps over the lazy dog", "please call stella", "we will meet at noon tomorrow"]


def ladder_items(n_src: int = 6, slices=("clean", "snr_10", "snr_0")) -> list[dict]:
    """Paired items: every slice holds the same n_src source sentences."""
    items = []
    for s in slices:
        for k in range(n_src):
            items.append({"id": f"{s}-{k:03d}", "text": SENTENCES[k % len(SENTENCES)],
                          "slice": {"slice": s, "snr_bin": {"clean": "clean", "snr_10": "10-15", "snr_0": "0-5"}.get(s, s)},
                          "conditions": {"snr_db": None if s == "clean" else float(s.split("_")[1]), "codec": "none"},
                          "source_id": f"src-{k}"})
    return items


def corrupt(text: str, n_sub: int) -> str:
    """Replace the first n_sub words with 'x' (n_sub substitutions)."""
    w = text.split()
    return " ".join(["x"] * min(n_sub, len(w)) + w[n_sub:])


def write_hyps(path: Path, hyps: dict[str, str]) -> Path:
    path.write_text("\n".join(json.dumps({"id": k, "text": v}) for k, v in hyps.items()) + "\n")
    return path


