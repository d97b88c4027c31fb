"""Turn-taking statistics of a speaker timeline (times in s), measured the same way on real RTTMs
(``synth fit-turns``), on simulated timelines (the turn model's tests) and on built sets (``synth stats``,
the dataset card). Definitions: :func:`realized_stats`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

import numpy as np


def _as_tuples(segments: Iterable[Any]) -> list[tuple[str, float, float]]:
    out = []
    for s in segments:
        if isinstance(s, dict):
            spk, a, b = s["speaker"], s["start"], s["end"]
        elif hasattr(s, "speaker") and hasattr(s, "start_s"):
            spk, a, b = s.speaker, s.start_s, s.end_s
        else:
            spk, a, b = s[0], s[1], s[2]
        if b > a:
            out.append((str(spk), float(a), float(b)))
    return out


def merge_same_speaker(segments: Iterable[Any]) -> list[tuple[str, float, float]]:
    """Merge each speaker's overlapping or touching segments; returns (speaker, start, end) by start."""
    by_spk: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for spk, a, b in _as_tuples(segments):
        by_spk[spk].append((a, b))
    out = []
    for spk, spans in by_spk.items():
        spans.sort()
        cur_a, cur_b = spans[0]
        for a, b in spans[1:]:
            if a <= cur_b + 1e-9:
                cur_b = max(cur_b, b)
            else:
                out.append((spk, cur_a, cur_b))
                cur_a, cur_b = a, b
        out.append((spk, cur_a, cur_b))
    out.sort(key=lambda t: (t[1], t[2], t[0]))
    return out


def _covered(a: float, b: float, spans: Sequence[tuple[float, float]], eps: float = 1e-6) -> bool:
    """True if [a, b] lies inside the union of ``spans``."""
    t = a
    for sa, sb in sorted(spans):
        if sa > t + eps:
            break
        t = max(t, sb)
        if t >= b - eps:
            return True
    return t >= b - eps


def speaker_count_profile(segs: Sequence[tuple[str, float, float]]) -> tuple[float, float]:
    """(time with >= 1 speaker, time with >= 2 speakers) by a sweep over segment boundaries."""
    events = sorted([(a, 1) for _, a, _ in segs] + [(b, -1) for _, _, b in segs], key=lambda e: (e[0], e[1]))
    n, last, speech, overlap = 0, None, 0.0, 0.0
    for t, d in events:
        if last is not None and n >= 1:
            speech += t - last
            if n >= 2:
                overlap += t - last
        n += d
        last = t
    return speech, overlap


def realized_stats(segments: Iterable[Any], duration_s: float | None = None) -> dict:
    """Turn-taking statistics of one conversation.

    ``segments``: (speaker, start_s, end_s[, ...]) tuples, dicts with speaker/start/end, or objects with
    speaker/start_s/end_s (e.g. :class:`synth.scene.turns.Turn`). Returns ratios, counts and the lists of
    gap, overlap and pause durations and of backchannel-like and turn segment durations:

    * A speaker's overlapping or touching segments are merged first (an RTTM may split one talk spurt).
    * **Backchannel-like**: a segment covered for its whole length by other speakers' speech; found from
      the geometry, never from a label, so real and synthetic timelines are measured alike.
    * **Turns**: the other segments, by start. The latest end so far is the floor, its speaker holds it. A
      turn starting at or after it adds a **same-speaker pause** (the holder again) or a **gap** (another
      speaker); one starting before it is a **switch with overlap** of ``floor end - start``.
    * ``span_s``: first start to last end, or ``duration_s`` when given (lead/tail silence then counts).
    * overlap ratio = time with >= 2 speakers / time with >= 1 (speech time); silence ratio = time with
      nobody / span; ``p_overlap`` = overlapping switches / switches (Landini et al. 2022); ``p_switch`` =
      switches / (switches + pauses); ``backchannel_rate_per_min`` per minute of speech (the turn model's
      definition), ``backchannels_per_span_min`` per minute of span.
    """
    segs = merge_same_speaker(segments)
    if not segs:
        return {"overlap_ratio": 0.0, "silence_ratio": 1.0 if duration_s else 0.0, "span_s": duration_s or 0.0,
                "speech_s": 0.0, "overlap_s": 0.0, "silence_s": duration_s or 0.0, "n_turns": 0,
                "n_speakers": 0, "n_switches": 0, "p_overlap": 0.0, "p_switch": 0.0, "n_backchannels": 0,
                "backchannel_rate_per_min": 0.0, "gaps_s": [], "overlaps_s": [], "pauses_same_s": [],
                "backchannel_durs_s": [], "turn_durs_s": []}
    turns, backs, n_speakers = _turns_and_backchannels(segs)
    gaps, overlaps, pauses = _boundaries(turns)
    speech, overlap = speaker_count_profile(segs)
    first = min(a for _, a, _ in segs)
    last = max(b for _, _, b in segs)
    span = float(duration_s) if duration_s is not None else last - first
    silence = max(span - speech, 0.0)
    n_sw = len(gaps) + len(overlaps)
    return {
        "overlap_ratio": overlap / speech if speech > 0 else 0.0,
        "silence_ratio": silence / span if span > 0 else 0.0,
        "span_s": span,
        "speech_s": speech,
        "overlap_s": overlap,
        "silence_s": silence,
        "n_turns": len(turns),
        "n_speakers": n_speakers,
        "n_switches": n_sw,
        "p_overlap": len(overlaps) / n_sw if n_sw else 0.0,
        "p_switch": n_sw / (n_sw + len(pauses)) if n_sw + len(pauses) else 0.0,
        "n_backchannels": len(backs),
        "backchannel_rate_per_min": 60.0 * len(backs) / speech if speech > 0 else 0.0,
        "backchannels_per_span_min": 60.0 * len(backs) / span if span > 0 else 0.0,
        "gaps_s": gaps,
        "overlaps_s": overlaps,
        "pauses_same_s": pauses,
        "backchannel_durs_s": [b - a for _, a, b in backs],
        "turn_durs_s": [b - a for _, a, b in turns],
    }


def _turns_and_backchannels(segs: list[tuple]) -> tuple[list[tuple], list[tuple], int]:
    """(turns, backchannels, number of speakers): a segment lying wholly inside other speakers' speech is a
    backchannel, every other one a turn."""
    by_spk: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for spk, a, b in segs:
        by_spk[spk].append((a, b))
    others = {spk: [ab for s2, spans in by_spk.items() if s2 != spk for ab in spans] for spk in by_spk}
    turns, backs = [], []
    for spk, a, b in segs:
        (backs if _covered(a, b, others[spk]) else turns).append((spk, a, b))
    return turns, backs, len(by_spk)


def _boundaries(turns: list[tuple]) -> tuple[list[float], list[float], list[float]]:
    """(gaps, overlaps, same-speaker pauses) in s at each turn's start, measured against the floor: the
    latest end so far and the speaker who holds it."""
    gaps, overlaps, pauses = [], [], []
    floor_end, holder = None, None
    for spk, a, b in turns:
        if floor_end is None:
            floor_end, holder = b, spk
            continue
        if a >= floor_end:
            (pauses if spk == holder else gaps).append(a - floor_end)
        else:
            overlaps.append(floor_end - a)
        if b > floor_end:
            floor_end, holder = b, spk
    return gaps, overlaps, pauses


def pooled_stats(stats: Sequence[dict]) -> dict:
    """Pool per-conversation stats: time-weighted ratios, concatenated duration lists, event-count rates."""
    speech = sum(s["speech_s"] for s in stats)
    span = sum(s["span_s"] for s in stats)
    n_sw = sum(s["n_switches"] for s in stats)
    n_ov = sum(len(s["overlaps_s"]) for s in stats)
    n_p = sum(len(s["pauses_same_s"]) for s in stats)
    cat = lambda k: [x for s in stats for x in s[k]]  # noqa: E731
    return {
        "overlap_ratio": sum(s["overlap_s"] for s in stats) / speech if speech else 0.0,
        "silence_ratio": sum(s["silence_s"] for s in stats) / span if span else 0.0,
        "mean_overlap_ratio": float(np.mean([s["overlap_ratio"] for s in stats])) if stats else 0.0,
        "mean_silence_ratio": float(np.mean([s["silence_ratio"] for s in stats])) if stats else 0.0,
        "span_s": span, "speech_s": speech,
        "p_overlap": n_ov / n_sw if n_sw else 0.0,
        "p_switch": n_sw / (n_sw + n_p) if n_sw + n_p else 0.0,
        "backchannel_rate_per_min": 60.0 * sum(s["n_backchannels"] for s in stats) / speech if speech else 0.0,
        "backchannels_per_span_min": 60.0 * sum(s["n_backchannels"] for s in stats) / span if span else 0.0,
        "n_conversations": len(stats),
        **{k: cat(k) for k in ("gaps_s", "overlaps_s", "pauses_same_s", "backchannel_durs_s", "turn_durs_s")},
    }


def quantiles(values: Sequence[float], qs: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict:
    """Named quantiles (``p50`` ...) of a list of durations, for reports; empty dict when no values."""
    if len(values) == 0:
        return {}
    v = np.quantile(np.asarray(values, dtype=float), qs)
    return {f"p{int(round(q * 100))}": round(float(x), 3) for q, x in zip(qs, v)}
