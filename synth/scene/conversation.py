"""Conversation (two parties, e.g. agent and customer) and meeting (3-8 talkers) scenarios: real utterances
of distinct source speakers (drawn with metadata weights, :mod:`synth.scene.speakers`) placed on a timeline
by the turn-taking model (:mod:`synth.scene.turns`). Sampling only: the recipe's ``talkers``, no audio read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dist import dist_field, number_field
from ..errors import ConfigError
from .base import register
from .speakers import check_speakers, sample_speakers
from .truncation import cut_at, cut_points
from .turns import Turn, TurnModel, UttSpec, draw_at_least, ppf, sample_timeline

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_RUN = 12  # at most this many utterances back to back in one turn or backchannel


class _SpeakerQueue:
    """One talker's utterances in their pool order (sorted ids) from a random start, so a talker's speech
    reads in sequence. ``take(min_s)``: the first utterance in order at least ``min_s`` long (room for the
    overlaps planned at both of its ends); the skipped ones stay available. A talker who runs out starts
    over (``allow_reuse``; repeated utterances are flagged ``reused``) or is out of speech."""

    def __init__(self, rng: np.random.Generator, utts: list, allow_reuse: bool):
        k = int(rng.integers(len(utts)))
        self.order = utts[k:] + utts[:k]
        self.left = list(self.order)
        self.allow_reuse = allow_reuse
        self.used: set[str] = set()

    def peek(self):
        """The next utterance in order (None when the talker is out of speech)."""
        if not self.left:
            if not self.allow_reuse:
                return None
            self.left = list(self.order)
        return self.left[0]

    def take(self, min_s: float):
        if self.peek() is None:
            return None
        u = next((u for u in self.left if u.duration_s >= min_s), None) or max(self.left, key=lambda u: u.duration_s)
        self.left.remove(u)
        reused = u.id in self.used
        self.used.add(u.id)
        return u, reused

    def take_run(self, min_s: float, want_s: float) -> list:
        """Utterances in order, back to back, until together they last at least ``min_s`` and the next
        one would overshoot ``want_s`` by more than it is short (at most ``MAX_RUN``); [] when out of speech."""
        run, total = [], 0.0
        while len(run) < MAX_RUN:
            nxt = self.peek()
            if nxt is None or (run and total >= min_s and total + nxt.duration_s / 2 >= want_s):
                break
            run.append(self.take(0.0))
            total += nxt.duration_s
        return run


def backchannel_run(shorts: list, want_s: float, used: set) -> list:
    """Short utterances back to back that together last about ``want_s``: each time the one closest to the
    time still wanted (unused ones first), while adding it brings the total closer; at least one."""
    run, left = [], want_s
    while len(run) < MAX_RUN:
        fresh = [u for u in shorts if u not in run] or shorts
        u = min(fresh, key=lambda u: abs(u.duration_s - left))
        if run and abs(u.duration_s - left) >= left:
            break
        run.append(u)
        left -= u.duration_s
    return [(u, u.id in used) for u in run]


def run_spec(run: list) -> UttSpec:
    """A run of utterances as one timeline utterance: its length, and where it may be cut (word ends
    inside a piece, and the joins between pieces: stopping at a join drops the later pieces whole)."""
    cuts, off = [], 0.0
    for k, (u, _) in enumerate(run):
        cuts += [off + c for c in cut_points(u.words) or ()]
        off += u.duration_s
        if k < len(run) - 1:
            cuts.append(off)
    return UttSpec(off, tuple(sorted(set(cuts))) or None, run)


@dataclass(frozen=True)
class _TurnScenario:
    """What conversations and meetings share. ``lead_s``/``tail_s``: silence before the first and after the
    last word (not part of the turn-taking statistics, measured from first start to last end). Conversations:
    role 0 (``agent``) opens the call on leg 0, role 1 (``customer``) is on leg 1; meetings: every talker on
    leg 0, role ``participant``."""

    name: str = "conversation"
    duration_s: Any = (30.0, 90.0)
    lead_s: Any = (0.2, 0.6)
    tail_s: Any = (0.4, 0.8)
    turns: dict = field(default_factory=dict)
    speakers: dict = field(default_factory=dict)  # {"weights": {meta_key: {value: weight}}}
    backchannel_max_s: float = 1.2
    allow_reuse: bool = True
    # True: the item lasts exactly the drawn duration_s (as fixed-length recordings do): the turn model ends
    # the timeline at duration_s - lead - tail (speech past it is cut at a word end, flagged truncated, or
    # left out), so backchannels and the closed loop see only what is kept. False: the timeline reaches
    # duration_s and lead/tail silence is added around it.
    exact_duration: bool = False
    # allowed range of each drawn field (a fitted profile is clamped to these: synth.profiles.limits)
    LIMITS = {"duration_s": (1, 3600), "lead_s": (0, 30), "tail_s": (0, 30), "n_speakers": (3, 8)}

    def __post_init__(self):
        for k in ("duration_s", "lead_s", "tail_s"):
            v, (lo, hi) = getattr(self, k), self.LIMITS[k]
            object.__setattr__(self, k, dist_field(f"scenario.{k}", list(v) if isinstance(v, tuple) else v, lo, hi))
        object.__setattr__(self, "backchannel_max_s",
                           number_field("scenario.backchannel_max_s", self.backchannel_max_s, 0.0, 60.0))
        if not isinstance(self.allow_reuse, bool):
            raise ConfigError(f"scenario.allow_reuse={self.allow_reuse!r}: must be true or false")
        check_speakers(self.speakers)
        object.__setattr__(self, "turn_model", TurnModel.from_config(self.turns or {}, "scenario.turns"))
        # steering toward a fitted overlap ratio, a listener's shortest utterance may overlap wherever it fits
        # inside another's solo speech; otherwise no longer than the model's longest backchannel
        targeted = (self.turn_model.info.get("targets") or {}).get("overlap_ratio") is not None
        object.__setattr__(self, "longest_backchannel_s", float("inf") if targeted else
                           max(self.backchannel_max_s, float(ppf(self.turn_model.backchannel_dur_s, 1.0))))
        utt = self.turn_model.info.get("utt_dur_s")
        object.__setattr__(self, "turn_dur_s", None if utt is None else
                           dist_field("scenario.turns.utt_dur_s", utt, 0.0, 3600.0))

    # subclasses: how many talkers, their roles and legs
    def _cast(self, rng) -> tuple[int, list[str], list[int]]:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, pool, sr: int) -> dict:
        n, roles, legs = self._cast(rng)
        weights = dict(self.speakers or {}).get("weights")
        spk_ids = sample_speakers(rng, pool, n, weights)  # distinct speakers: one role each
        queues = [_SpeakerQueue(rng, list(pool.by_speaker[s]), self.allow_reuse) for s in spk_ids]
        own = [list(pool.by_speaker[s]) for s in spk_ids]
        target = float(self.duration_s.sample(rng))
        lead = float(self.lead_s.sample(rng))
        tail = float(self.tail_s.sample(rng))
        limit = target - lead - tail if self.exact_duration else float("inf")
        exhausted: list[int] = []
        try:
            timeline = sample_timeline(rng, self.turn_model, self._turn_supplier(rng, queues, exhausted), n,
                                       min(target, limit), backchannels=self._backchannel_supplier(own, queues),
                                       first_speaker=0 if isinstance(self, ConversationScenario) else None,
                                       all_speak=True, end_s=limit if self.exact_duration else None)
        except _OutOfSpeech:
            raise ConfigError(f"scenario.allow_reuse=false but speaker {spk_ids[exhausted[0]]} has too little "
                              f"speech for a {target:.0f} s {self.name}; allow reuse or shorten scenario.duration_s")
        talkers = []
        for i, s in enumerate(spk_ids):
            meta = pool.by_speaker[s][0].meta
            utts = [entry for t in timeline if t.speaker == i for entry in _placed_pieces(t, lead, limit)]
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

    def _turn_supplier(self, rng: np.random.Generator, queues: list[_SpeakerQueue], exhausted: list[int]):
        """The timeline's supplier of turns: talker ``i``'s next utterance at least ``min_s`` long; a talker out
        of speech is noted in ``exhausted``.

        **Turns as runs.** With a fitted block (``utt_dur_s``), a turn's length is drawn from it (at least
        ``min_s``) and filled with the talker's next utterances back to back (:meth:`_SpeakerQueue.take_run`):
        a turn longer than any one utterance is several, each its own labeled segment. The pause between them
        is the silence at the ends of the source files (segment labels span whole files, as the RTTM segments
        the block was fitted on bridge short pauses), so the turn measures as one. A run may be cut at a join
        between pieces (later pieces dropped whole) as well as at word ends inside a piece."""
        def supply(i: int, min_s: float) -> UttSpec:
            if self.turn_dur_s is None:
                got = queues[i].take(min_s)
                run = [got] if got else []
            else:
                run = queues[i].take_run(min_s, draw_at_least(rng, self.turn_dur_s, min_s))
            if not run:  # talker out of material
                exhausted.append(i)
                raise _OutOfSpeech
            return run_spec(run)

        return supply

    def _backchannel_supplier(self, own: list[list], queues: list[_SpeakerQueue]):
        """The timeline's supplier of backchannels: listener ``i``'s utterances up to
        ``max(backchannel_max_s, want_s)`` long, back to back, each time the one closest to the time still
        wanted (fitted "backchannels" include overlapping stretches of several seconds, i.e. short turns).
        A listener's longer utterance with word alignments may serve by its opening words, cut at the word end
        nearest below ``want_s`` (when closer than any short utterance; ``text`` keeps those words,
        ``truncated``). A listener with nothing short uses their shortest utterance if it is within
        ``longest_backchannel_s`` (anywhere in another's solo speech when steering to a fitted overlap ratio),
        else returns None: that listener does not backchannel."""
        def backchannel(i: int, want_s: float):
            # a backchannel proper uses short utterances; a longer overlapping stretch is a short turn
            # and may use any utterance that fits in it; a talker with nothing that short uses their
            # shortest utterance if allowed (``longest_backchannel_s``), else does not backchannel
            short = [u for u in own[i] if u.duration_s <= max(self.backchannel_max_s, want_s)]
            # or the opening words of a longer aligned utterance, cut at a word end
            cuts = [(c.cut_s, u) for u in own[i] if u.words and u not in short
                    for c in [cut_at(u.words, want_s)] if c is not None]
            if cuts:
                cut_s, u = min(cuts, key=lambda c: want_s - c[0])
                if not short or want_s - cut_s < min(abs(x.duration_s - want_s) for x in short):
                    return UttSpec(cut_s, None, [(u, u.id in queues[i].used)])
            shortest = min(own[i], key=lambda u: u.duration_s)
            if not short and shortest.duration_s > self.longest_backchannel_s:
                return None
            return run_spec(backchannel_run(short or [shortest], want_s, queues[i].used))

        return backchannel


def _placed_pieces(t: Turn, lead: float, limit: float) -> list[dict]:
    """The recipe entries of one placed turn or backchannel: its run's utterances back to back from
    ``lead + t.start_s``, up to where it stops (an interruption, a fixed-length end at ``limit``, or the
    opening words of an utterance); a piece running past the stop is cut at a word end or left out."""
    stop = min(t.truncate_at_s if t.truncate_at_s is not None else np.inf, limit - t.start_s,
               t.end_s - t.start_s)  # a backchannel may be the opening words of an utterance
    start, off = round(lead + t.start_s, 4), 0.0
    utts = []
    for u, reused in t.ref:
        if off >= stop - 1e-9:
            break
        c = cut_at(u.words, stop - off) if off + u.duration_s > stop + 1e-9 else None
        if off + u.duration_s > stop + 1e-9 and c is None:
            break  # no word end before the stop: the piece is left out
        entry = {"source_id": u.id, "path": u.rel_path, "start_s": start,
                 "src_start_s": 0.0, "src_end_s": round(u.duration_s, 6), "text": u.text,
                 "words": u.words, "truncated": False, "backchannel": t.kind == "backchannel"}
        if c is not None:
            entry.update(src_end_s=c.cut_s, text=c.text, words=[dict(w) for w in c.kept_words],
                         truncated=True, partial_word=c.partial_word)
        if reused:
            entry["reused"] = True
        utts.append(entry)
        start, off = round(start + u.duration_s, 4), off + u.duration_s  # the next piece starts as this one ends
    return utts


class _OutOfSpeech(Exception):
    pass


@register("conversation", id_prefix="conv")
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


@register("meeting", id_prefix="meet")
@dataclass(frozen=True)
class MeetingScenario(_TurnScenario):
    """3-8 talkers around one table, all on leg 0; ``n_speakers`` is drawn per meeting."""

    name: str = "meeting"
    duration_s: Any = (60.0, 180.0)
    n_speakers: Any = field(default_factory=lambda: {"choice": [3, 4, 5, 6]})

    def __post_init__(self):
        super().__post_init__()
        v = self.n_speakers
        object.__setattr__(self, "n_speakers", dist_field("scenario.n_speakers", list(v) if isinstance(v, tuple) else v,
                                                              *self.LIMITS["n_speakers"]))

    def _cast(self, rng):
        n = int(round(float(self.n_speakers.sample(rng))))
        return n, ["participant"] * n, [0] * n
