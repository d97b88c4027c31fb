"""Conversation (two parties, e.g. agent and customer) and meeting (3-8 talkers) scenarios.

Each item is built from real utterances of **distinct** source speakers, drawn with metadata weights
(:func:`synth.scene.speakers.sample_speakers`), placed on a timeline by the turn-taking model
(:mod:`synth.scene.turns`). Sampling only: the recipe's ``talkers`` list, no audio is read.

Choices (documented because they shape the data):

* Each speaker's utterances are used in their pool order (sorted ids) from a random starting point, so
  a talker's speech reads in sequence; when the turn model asks for an utterance long enough for the
  overlaps planned at both of its ends, the first such utterance in order is taken and the skipped ones
  stay available. A talker who runs out starts over (``allow_reuse``; the item records
  ``reused: true`` on repeated utterances) or the conversation ends early (``allow_reuse: false``).
* Backchannels use the listener's own short utterances (at most ``backchannel_max_s``), the one
  closest to the drawn length; a listener with none does not backchannel.
* Interrupted utterances are cut only at word ends from the source alignment
  (:mod:`synth.scene.truncation`): without alignments utterances are overlapped but never cut.
* Conversations: role 0 (``agent``) opens the call and sits on leg 0; role 1 (``customer``) on leg 1.
  Meetings: every talker on leg 0, role ``participant``.
* ``lead_s``/``tail_s`` add silence before the first and after the last word (not part of the
  turn-taking statistics, which are measured from first start to last end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dist import dist_field, number_field
from ..errors import ConfigError
from .speakers import check_speakers, sample_speakers
from .truncation import cut_at, cut_points
from .turns import TurnModel, UttSpec, sample_timeline

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _SpeakerQueue:
    """One talker's utterances in order from a random start; ``take(min_s)`` as described above."""

    def __init__(self, rng: np.random.Generator, utts: list, allow_reuse: bool):
        k = int(rng.integers(len(utts)))
        self.order = utts[k:] + utts[:k]
        self.left = list(self.order)
        self.allow_reuse = allow_reuse
        self.used: set[str] = set()

    def take(self, min_s: float):
        if not self.left:
            if not self.allow_reuse:
                return None
            self.left = list(self.order)
        u = next((u for u in self.left if u.duration_s >= min_s), None) or max(self.left, key=lambda u: u.duration_s)
        self.left.remove(u)
        reused = u.id in self.used
        self.used.add(u.id)
        return u, reused


@dataclass(frozen=True)
class _TurnScenario:
    name: str = "conversation"
    duration_s: Any = (30.0, 90.0)
    lead_s: Any = (0.2, 0.6)
    tail_s: Any = (0.4, 0.8)
    turns: dict = field(default_factory=dict)
    speakers: dict = field(default_factory=dict)  # {"weights": {meta_key: {value: weight}}}
    backchannel_max_s: float = 1.2
    allow_reuse: bool = True
    # True: the item lasts exactly the drawn duration_s (as fixed-length recordings do): speech past
    # duration_s - tail is cut at a word end (flagged truncated) or left out. False: the timeline
    # reaches duration_s and lead/tail silence is added around it.
    exact_duration: bool = False

    def __post_init__(self):
        for k, lo, hi in (("duration_s", 1, 3600), ("lead_s", 0, 30), ("tail_s", 0, 30)):
            v = getattr(self, k)
            object.__setattr__(self, k, dist_field(f"scenario.{k}", list(v) if isinstance(v, tuple) else v, lo, hi))
        object.__setattr__(self, "backchannel_max_s",
                           number_field("scenario.backchannel_max_s", self.backchannel_max_s, 0.0, 60.0))
        if not isinstance(self.allow_reuse, bool):
            raise ConfigError(f"scenario.allow_reuse={self.allow_reuse!r}: must be true or false")
        check_speakers(self.speakers)
        object.__setattr__(self, "turn_model", TurnModel.from_config(self.turns or {}, "scenario.turns"))

    # subclasses: how many talkers, their roles and legs
    def _cast(self, rng) -> tuple[int, list[str], list[int]]:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, pool, sr: int) -> dict:
        n, roles, legs = self._cast(rng)
        weights = dict(self.speakers or {}).get("weights")
        spk_ids = sample_speakers(rng, pool, n, weights)  # distinct speakers: one role each
        queues = [_SpeakerQueue(rng, list(pool.by_speaker[s]), self.allow_reuse) for s in spk_ids]
        shorts = [[u for u in pool.by_speaker[s] if u.duration_s <= self.backchannel_max_s] for s in spk_ids]
        target = float(self.duration_s.sample(rng))
        exhausted = []

        def supply(i: int, min_s: float) -> UttSpec:
            got = queues[i].take(min_s)
            if got is None:  # talker out of material: end the conversation with a short stub turn
                exhausted.append(i)
                raise _OutOfSpeech
            u, reused = got
            return UttSpec(u.duration_s, cut_points(u.words), (u, reused))

        def backchannel(i: int, want_s: float):
            if not shorts[i]:
                return None
            u = min(shorts[i], key=lambda u: abs(u.duration_s - want_s))
            return UttSpec(u.duration_s, None, (u, u.id in queues[i].used))

        try:
            timeline = sample_timeline(rng, self.turn_model, supply, n, target, backchannels=backchannel,
                                       first_speaker=0 if isinstance(self, ConversationScenario) else None,
                                       all_speak=True)
        except _OutOfSpeech:
            raise ConfigError(f"scenario.allow_reuse=false but speaker {spk_ids[exhausted[0]]} has too little "
                              f"speech for a {target:.0f} s {self.name}; allow reuse or shorten scenario.duration_s")
        lead = float(self.lead_s.sample(rng))
        tail = float(self.tail_s.sample(rng))
        limit = target - lead - tail if self.exact_duration else float("inf")
        talkers = []
        for i, s in enumerate(spk_ids):
            meta = pool.by_speaker[s][0].meta
            utts = []
            for t in (t for t in timeline if t.speaker == i):
                u, reused = t.ref
                cut_s = t.truncate_at_s
                if t.start_s + (u.duration_s if cut_s is None else cut_s) > limit:  # past a fixed-length end
                    cut_s = limit - t.start_s if cut_at(u.words, limit - t.start_s) is not None else None
                    if cut_s is None:
                        continue
                entry = {"source_id": u.id, "path": u.rel_path, "start_s": round(lead + t.start_s, 4),
                         "src_start_s": 0.0, "src_end_s": round(u.duration_s, 6), "text": u.text,
                         "words": u.words, "truncated": False, "backchannel": t.kind == "backchannel"}
                if cut_s is not None:
                    c = cut_at(u.words, cut_s)
                    entry.update(src_end_s=c.cut_s, text=c.text, words=[dict(w) for w in c.kept_words],
                                 truncated=True, partial_word=c.partial_word)
                if reused:
                    entry["reused"] = True
                utts.append(entry)
            talkers.append({"label": LABELS[i], "role": roles[i], "leg": legs[i], "source_speaker": s,
                            "speaker_meta": {k: meta[k] for k in ("gender", "accent", "language") if k in meta},
                            "utterances": utts, "effects": []})
        # a participant the turn model never picked (only if the 3x-target cap was hit) is left out
        talkers = [t for t in talkers if t["utterances"]]
        for k, t in enumerate(talkers):
            t["label"] = LABELS[k]
        if self.exact_duration and talkers:
            return {"duration_s": round(target, 4), "talkers": talkers, "target_duration_s": round(target, 4)}
        end = max(t.end_s for t in timeline)
        return {"duration_s": round(lead + end + tail, 4), "talkers": talkers}


class _OutOfSpeech(Exception):
    pass


@dataclass(frozen=True)
class ConversationScenario(_TurnScenario):
    """Two parties on a call: ``roles`` (default agent, customer), one leg each (leg = role index)."""

    name: str = "conversation"
    roles: tuple = ("agent", "customer")

    def __post_init__(self):
        super().__post_init__()
        roles = self.roles
        if not (isinstance(roles, (list, tuple)) and len(roles) == 2 and all(isinstance(r, str) and r for r in roles)
                and roles[0] != roles[1]):
            raise ConfigError(f"scenario.roles={roles!r}: a conversation has exactly two distinct roles (names)")

    def _cast(self, rng):
        return 2, list(self.roles), [0, 1]


@dataclass(frozen=True)
class MeetingScenario(_TurnScenario):
    """3-8 talkers around one table, all on leg 0; ``n_speakers`` is drawn per meeting."""

    name: str = "meeting"
    duration_s: Any = (60.0, 180.0)
    n_speakers: Any = field(default_factory=lambda: {"choice": [3, 4, 5, 6]})

    def __post_init__(self):
        super().__post_init__()
        v = self.n_speakers
        object.__setattr__(self, "n_speakers", dist_field("scenario.n_speakers", list(v) if isinstance(v, tuple) else v, 3, 8))

    def _cast(self, rng):
        n = int(round(float(self.n_speakers.sample(rng))))
        return n, ["participant"] * n, [0] * n
