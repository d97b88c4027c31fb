"""A filler bank: real hesitation tokens ("uh", "um", "er", "ah", "hm", ...) cut from aligned recordings at
their word boundaries, at the source's own rate with short fades inside the cut (never synthesized, never
resampled): ``synth align ... --fillers <folder>`` writes ``audio/``, ``manifest.jsonl`` and ``rejected.jsonl``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..audio import active_speech_level, power_db, write_audio
from .aligner import Alignment
from .text import HESITATIONS

FADE_S = 0.01
MIN_S, MAX_S = 0.10, 2.0
CLIP_LEVEL, CLIP_RUN = 0.97, 3
MIN_ABOVE_FLOOR_DB = 6.0


def fade(seg: np.ndarray, sr: int) -> np.ndarray:
    """``seg`` with ``FADE_S`` raised-cosine fades in and out (inside its span)."""
    out = np.array(seg, dtype=np.float32)
    f = min(int(round(FADE_S * sr)), len(out) // 2)
    if f:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(f) + 0.5) / f)).astype(np.float32)
        out[:f] *= ramp
        out[-f:] *= ramp[::-1]
    return out


def _clipped(x: np.ndarray) -> bool:
    hot = np.abs(x) >= CLIP_LEVEL
    if hot.sum() < CLIP_RUN:
        return False
    run = np.convolve(hot.astype(np.int32), np.ones(CLIP_RUN, np.int32), "valid")
    return bool((run >= CLIP_RUN).any())


def _floor_db(x: np.ndarray, sr: int) -> float:
    n = max(1, int(0.02 * sr))
    k = len(x) // n
    if k == 0:
        return power_db(x)
    e = 10 * np.log10(np.mean(np.asarray(x[:k * n], dtype=np.float64).reshape(k, n) ** 2, axis=1) + 1e-12)
    return float(np.percentile(e, 10))


def near_noise(a: Alignment) -> tuple[set[int], set[int]]:
    """Token positions (next to noise or unintelligible markup, inside a span of noise)."""
    near, inside, depth = set(), set(), 0
    toks = a.tokens
    for i, t in enumerate(toks):
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth = max(0, depth - 1)
        elif t.word is not None and depth:
            inside.add(i)
        if t.kind in ("noise", "speech"):
            for j in (i - 1, i + 1):
                # skip span markers, which have no sound: the neighbour is the next token that has
                k = j
                while 0 <= k < len(toks) and toks[k].kind in ("open", "close"):
                    k += -1 if j < i else 1
                if 0 <= k < len(toks):
                    near.add(k)
    return near, inside


def harvest(a: Alignment, problem: str | None, x: np.ndarray, sr: int, bank: Path, name: str, line: str,
            source: str, meta: dict) -> tuple[list[dict], list[dict]]:
    """Cut the hesitations of one utterance (``x``: its samples at ``sr``, as the file holds them) into
    ``bank/audio``; returns (bank rows, rejected rows). ``problem``: why its alignment was rejected;
    ``meta``: the source row's speaker and speaker metadata, copied into each bank row. A bank row holds
    ``audio_filepath``, ``duration``, ``sample_rate``, ``word``, ``speaker``, ``source``, ``source_line``,
    ``start``/``end`` in the source, ``level_dbov`` (P.56), ``rms_dbov``, ``fade_s`` and that metadata; a
    rejected row its reason:

    ``not_aligned``     its utterance's alignment failed or was rejected (the reason is given);
    ``too_short``       shorter than ``MIN_S`` (a hesitation squeezed by the aligner: its edges are guesses);
    ``too_long``        longer than ``MAX_S``;
    ``clipped``         ``CLIP_RUN`` samples in a row at or above ``CLIP_LEVEL`` of full scale;
    ``next_to_noise``   next to a noise or unintelligible-speech token (``{breath} uh``): its edge is where the
                        noise model ends, and some of the noise may be in the cut;
    ``noise_span``      inside a span of noise or background talking (``[static/] ... [/static]``);
    ``uncertain``       transcribed as uncertain (``((uh))``);
    ``quiet``           its RMS is less than ``MIN_ABOVE_FLOOR_DB`` above the utterance's noise floor (the
                        10th percentile of 20 ms frame levels): probably cut from a pause, not a voice.
    """
    hes = [(i, t) for i, t in enumerate(a.tokens) if t.word is not None and t.spoken in HESITATIONS]
    if not hes:
        return [], []
    base = {"source": source, "source_line": line, "speaker": meta.get("speaker")}
    if problem is not None or not a.words:
        return [], [{**base, "word": t.word, "reason": "not_aligned", "detail": problem} for _, t in hes]
    times = {w_i: w for w_i, w in enumerate(a.words)}
    near, inside = near_noise(a)
    floor = _floor_db(x, sr)
    kept, rejected = [], []
    for i, t in hes:
        w = times[t.index]
        s0, s1 = int(round(w["start"] * sr)), min(len(x), int(round(w["end"] * sr)))
        seg = x[s0:s1]
        dur = (s1 - s0) / sr
        rec = {**base, "word": t.word, "start": w["start"], "end": w["end"], "duration": round(dur, 4)}
        reason = ("uncertain" if t.uncertain else "noise_span" if i in inside else "next_to_noise" if i in near else
                  "too_short" if dur < MIN_S - 1e-9 else "too_long" if dur > MAX_S + 1e-9 else
                  "clipped" if _clipped(seg) else
                  "quiet" if power_db(seg) < floor + MIN_ABOVE_FLOOR_DB else None)
        if reason:
            rejected.append({**rec, "reason": reason})
            continue
        fname = f"{name}_w{t.index:03d}_{t.spoken}.flac"
        write_audio(bank / "audio" / fname, fade(seg, sr), sr, "flac", {"comment": f"filler cut from {source}"})
        lvl = active_speech_level(seg, sr)
        kept.append({"audio_filepath": f"audio/{fname}", "duration": round(dur, 4), "sample_rate": sr,
                     "word": t.spoken, **base, "start": w["start"], "end": w["end"],
                     "level_dbov": round(lvl.level_dbov, 2), "activity": round(lvl.activity, 3),
                     "rms_dbov": round(power_db(seg), 2), "fade_s": FADE_S,
                     **{k: v for k, v in meta.items() if k != "speaker"}})
    return kept, rejected


def file_stem(line: str, audio: str) -> str:
    """A bank file name prefix unique per manifest line: ``L<line>_<audio file stem>``."""
    n = line.rsplit(":", 1)[-1]
    stem = os.path.splitext(os.path.basename(audio))[0]
    return f"L{int(n):06d}_{stem}" if n.isdigit() else stem
