"""Render side of behavior: place an utterance's pieces (no draws) and label them on the item's timeline."""

from __future__ import annotations

import numpy as np

from ..audio import active_speech_level, db_to_gain


def faded(seg: np.ndarray, sr: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    """``seg`` with raised-cosine fades of the given lengths inside its span (a copy when any)."""
    if not fade_in_s and not fade_out_s:
        return seg
    out = np.array(seg, dtype=np.float32)
    for length, head in ((fade_in_s, True), (fade_out_s, False)):
        f = min(int(round(length * sr)), len(out) // 2)
        if f:
            ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(f) + 0.5) / f)).astype(np.float32)
            if head:
                out[:f] *= ramp
            else:
                out[-f:] *= ramp[::-1]
    return out


def utterance_level_dbov(ctx, u: dict, sr: int) -> float:
    """P.56 active level of the utterance's source span (what a filler is matched to), cached per worker."""
    def measure():
        x = ctx.load(u["path"], sr)
        return active_speech_level(x[int(round(u["src_start_s"] * sr)): int(round(u["src_end_s"] * sr))], sr).level_dbov
    return ctx.cached(("behavior/level", u["path"], u["src_start_s"], u["src_end_s"], sr), measure)


def place_pieces(dry: np.ndarray, u: dict, ctx, sr: int, src: np.ndarray | None = None,
                 level_dbov: float | None = None) -> None:
    """Add the pieces of ``u["behavior"]`` into ``dry`` (the talker's track) from ``u["start_s"]``.

    ``src``: the source's samples at ``sr`` (default: ``u["path"]`` read through ``ctx``; the Augmenter passes
    the caller's array) and ``level_dbov`` the P.56 level of its span a filler is matched to (default: measured
    on it, cached in ``ctx``). Filler pieces are read from the bank through ``ctx``."""
    n = len(dry)
    src = ctx.load(u["path"], sr) if src is None else src
    for p in u["behavior"]["pieces"]:
        if "filler" in p:
            x = ctx.load(p["filler"], sr)
            level = utterance_level_dbov(ctx, u, sr) if level_dbov is None else level_dbov
            gain = db_to_gain(level - p["filler_level_dbov"] + p["gain_db"]) if np.isfinite(level) else 0.0
            seg = (x[int(round(p["src_start_s"] * sr)): int(round(p["src_end_s"] * sr))] * np.float32(gain))
        else:
            seg = src[int(round(p["src_start_s"] * sr)): int(round(p["src_end_s"] * sr))]
        seg = faded(seg, sr, p["fade_in_s"], p["fade_out_s"])
        at = int(round((u["start_s"] + p["at_s"]) * sr))
        seg = seg[: max(0, n - at)]
        dry[at: at + len(seg)] += seg


def label_behavior(seg: dict, u: dict, start: float, duration_s: float) -> None:
    """Verbatim labels of a behavior utterance into its segment: ``text`` verbatim, ``text_fluent`` the
    intended sentence, ``words`` and ``events`` on the item's timeline; an utterance behavior skipped says why."""
    b = u["behavior"]
    seg["text_fluent"] = u["text"]
    if "pieces" not in b:
        seg["events"] = []
        if "skipped" in b:
            seg["behavior_skipped"] = b["skipped"]
        return
    seg["end"] = round(min(start + b["duration_s"], duration_s), 4)
    seg["text"] = b["text"]
    seg["words"] = [{"word": w["word"], "start": round(w["start"] + start, 4), "end": round(w["end"] + start, 4)}
                    for w in b["words"]]
    seg["events"] = [{**e, "start": round(e["start"] + start, 4), "end": round(e["end"] + start, 4)} for e in b["events"]]
