"""Single talker: one utterance, or a few utterances of one speaker separated by pauses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dist import dist_field, number_field
from .base import register
from .speakers import check_speakers, sample_speakers


@register("single_talker", id_prefix="st")
@dataclass(frozen=True)
class SingleTalker:
    """One speaker per item. ``utterances`` (count), ``pause_s`` between them, ``lead_s`` of silence
    before the first and ``tail_s`` after the last (room for reverberation tails), all in seconds;
    ``max_duration_s`` caps the item (utterances that would pass it are not added).

    ``duration_s`` (a distribution, s; None = off): the item lasts this long, as fixed-length production
    recordings do (a profile fitted from real calls sets it). The talker is one who can fill it: one with an
    utterance that fits between ``lead`` and ``duration_s - tail`` and, in all, at least that span of speech
    (a talker with one 1 s command cannot fill a 6 s call: it would be mostly silence); when no talker
    qualifies, one with an utterance that fits, else any. Their utterances are tried in random order and
    each one that still fits before ``duration_s - tail`` is added (one that does not is skipped, not the end
    of the item); ``utterances`` and ``max_duration_s`` are then unused. When none fits, the talker's
    shortest utterance is kept whole and the item is that much longer."""

    name: str = "single_talker"
    utterances: Any = field(default_factory=lambda: {"choice": [1, 2, 3]})
    pause_s: Any = (0.3, 1.0)
    lead_s: Any = (0.2, 0.6)
    tail_s: Any = (0.4, 0.8)
    max_duration_s: float = 30.0
    duration_s: Any = None
    speakers: dict = field(default_factory=dict)  # {"weights": {meta_key: {value: weight}}}
    # allowed range of each drawn field (a fitted profile is clamped to these: synth.profiles.limits)
    LIMITS = {"utterances": (1, 50), "pause_s": (0, 30), "lead_s": (0, 30), "tail_s": (0, 30),
              "duration_s": (0.5, 3600)}

    def __post_init__(self):
        for k in ("utterances", "pause_s", "lead_s", "tail_s"):
            v, (lo, hi) = getattr(self, k), self.LIMITS[k]
            object.__setattr__(self, k, dist_field(f"scenario.{k}", list(v) if isinstance(v, tuple) else v, lo, hi))
        max_s = number_field("scenario.max_duration_s", self.max_duration_s, 0.1, 3600)
        object.__setattr__(self, "max_duration_s", max_s)
        check_speakers(self.speakers)
        if self.duration_s is not None:
            object.__setattr__(self, "duration_s", dist_field("scenario.duration_s", self.duration_s,
                                                                *self.LIMITS["duration_s"]))

    def sample(self, rng, pool, sr: int) -> dict:
        if self.duration_s is not None:
            return self._sample_fixed_length(rng, pool)
        speaker = sample_speakers(rng, pool, 1, dict(self.speakers).get("weights"))[0]
        own = pool.by_speaker[speaker]
        k = min(int(self.utterances.sample(rng)), len(own))
        chosen = [own[i] for i in rng.choice(len(own), size=k, replace=False)]
        t = float(self.lead_s.sample(rng))
        utts = []
        for n, u in enumerate(chosen):
            if n and t + u.duration_s > self.max_duration_s:
                break
            utts.append(_utt(u, t))
            t += u.duration_s + float(self.pause_s.sample(rng))
        end = utts[-1]["start_s"] + chosen[len(utts) - 1].duration_s + float(self.tail_s.sample(rng))
        return self._scene(round(end, 4), speaker, own, utts)

    def _sample_fixed_length(self, rng, pool) -> dict:
        target = float(self.duration_s.sample(rng))
        t = float(self.lead_s.sample(rng))
        tail = float(self.tail_s.sample(rng))
        end_by = target - tail
        speaker = sample_speakers(rng, pool, 1, dict(self.speakers).get("weights"), prefer=_fillers(pool, end_by - t))[0]
        own = pool.by_speaker[speaker]
        utts = []
        for i in rng.permutation(len(own)):
            u = own[int(i)]
            if t + u.duration_s > end_by:
                continue
            utts.append(_utt(u, t))
            t += u.duration_s + float(self.pause_s.sample(rng))
        if not utts:
            utts.append(_utt(min(own, key=lambda u: u.duration_s), t))
        last = utts[-1]["start_s"] + utts[-1]["src_end_s"]
        return {**self._scene(round(max(target, last + tail), 4), speaker, own, utts),
                "target_duration_s": round(target, 4)}

    @staticmethod
    def _scene(duration_s: float, speaker: str, own: list, utts: list) -> dict:
        meta = own[0].meta
        return {"duration_s": duration_s, "talkers": [{
            "label": "A", "role": "talker", "leg": 0, "source_speaker": speaker,
            "speaker_meta": {k: meta[k] for k in ("gender", "accent", "language") if k in meta},
            "utterances": utts, "effects": []}]}


def _utt(u, start_s: float) -> dict:
    return {"source_id": u.id, "path": u.rel_path, "start_s": round(start_s, 4), "src_start_s": 0.0,
            "src_end_s": u.duration_s, "text": u.text, "words": u.words, "truncated": False, "backchannel": False}


def _fillers(pool, span_s: float):
    """Talkers who can fill ``span_s`` seconds (an utterance that fits, and at least ``span_s`` of speech in
    all); else those with an utterance that fits; else None (any talker)."""
    key = "single_talker/utterance_spans"
    if key not in pool.derived:
        pool.derived[key] = (np.array([min(u.duration_s for u in pool.by_speaker[s]) for s in pool.speakers]),
                             np.array([sum(u.duration_s for u in pool.by_speaker[s]) for s in pool.speakers]))
    shortest, total = pool.derived[key]
    fits = shortest <= span_s
    fills = fits & (total >= span_s)
    return fills if fills.any() else fits if fits.any() else None
