"""Drawing a talker's disfluencies into the scene (plan side: every decision here, render only executes).

An utterance with events gets ``behavior: {pieces, duration_s, text, words, events}``: ``pieces`` are
what render places, in order, at ``at_s`` seconds after the utterance's start -- spans of the source
(``src_start_s``/``src_end_s``) or a filler file (``filler``, matched to the utterance's P.56 level
``+ gain_db``), each with raised-cosine fades where it was cut out of running audio. ``words`` and
``events`` (seconds after the utterance's start) are the verbatim labels; ``text`` the verbatim transcript.
Later utterances of every talker that start after the utterance's source end move by what it gained.

Partial words at turn cuts: a truncated utterance that another talker is speaking over at its cut (a
turn cut off by an interruption, or a listener's opening words) may stop inside the next word instead of
at the word end before it (``behavior.partial_word.p``): the scene cuts only at word ends (an
interruption exactly at one, a listener's opening words at the last one before the wanted length, naming
the word it fell in ``partial_word``). The last piece runs on to a drawn 0.3-0.7 of that word (from the
source's full alignment, which the plan passes in: the entry keeps only the words before the cut),
fading out over ``FADE_S``, labeled ``bo-``. The talker only spoke longer: the interrupter still starts
where drawn (the overlap grows by the fragment) and no later utterance moves for it. No fragment when the
next word starts more than ``FRAGMENT_GAP_S`` after the cut (the talker had paused there), or when it
would run into the talker's own next utterance or past the item's end.

Boundaries: events sit at word boundaries of the source's alignment, cut in the middle of the gap
between two words (at the first word's onset minus ``LEAD_S`` before it). An utterance without word
alignments gets ``behavior: {"skipped": "no word alignments"}`` instead (nothing is changed).
"""

from __future__ import annotations

from typing import Callable

from ..rng import item_rng
from .bank import FillerBank
from .config import Behavior

FADE_S = 0.01     # raised-cosine fade where a piece is cut out of running audio
LEAD_S = 0.05     # source kept before the first word when the utterance opens again (after a restart or filler)
SKIPPED_NO_WORDS = "no word alignments"
FRAGMENT_GAP_S = 0.25  # at most this pause between a turn cut and the word a fragment starts


def r4(x: float) -> float:
    return round(float(x), 4)


def apply_behavior(behavior: Behavior, bank: FillerBank | None, scene: dict, seed: int, key: str,
                   source_words: Callable[[str], list | None] | None = None) -> None:
    """Draw every talker's events (stage ``behavior-<label>``) and rewrite ``scene`` in place.
    ``source_words``: a source id's full word alignment (the speech pool's), for partial words at turn cuts."""
    order = sorted(((u["start_s"], t["label"], i) for t in scene["talkers"] for i, u in enumerate(t["utterances"])))
    by_label = {t["label"]: t for t in scene["talkers"]}
    rngs, rates = {}, {}
    for t in scene["talkers"]:
        rng = item_rng(seed, key, f"behavior-{t['label']}")
        rngs[t["label"]] = rng
        rates[t["label"]] = talker_rates(behavior, rng)
        t["behavior"] = talker_record(behavior, bank, rates[t["label"]])
    for _, label, i in order:
        t = by_label[label]
        u = t["utterances"][i]
        cut = None
        if u.get("truncated") and source_words is not None and _spoken_over(scene, t, u):
            cut = (source_words(u["source_id"]), _room_after(scene, t, u))
        gained = draw_utterance(behavior, bank, u, rngs[label], rates[label], (t.get("speaker_meta") or {}).get("gender"),
                                cut)
        if gained:
            end = u["start_s"] + u["src_end_s"] - u["src_start_s"]
            for other in scene["talkers"]:
                for v in other["utterances"]:
                    if v is not u and v["start_s"] >= end - 1e-6:
                        v["start_s"] = r4(v["start_s"] + gained)
            scene["duration_s"] = r4(scene["duration_s"] + gained)


def _spoken_over(scene: dict, talker: dict, u: dict) -> bool:
    """True if another talker is speaking at ``u``'s end (its cut), as their utterances lie now."""
    end = u["start_s"] + u["src_end_s"] - u["src_start_s"]
    return any(v["start_s"] < end < v["start_s"] + (v.get("behavior") or {}).get("duration_s", v["src_end_s"] - v["src_start_s"])
               for t in scene["talkers"] if t is not talker for v in t["utterances"])


def _room_after(scene: dict, talker: dict, u: dict) -> float:
    """Seconds from ``u``'s end to its talker's next utterance or the item's end (what a fragment may use)."""
    end = u["start_s"] + u["src_end_s"] - u["src_start_s"]
    nxt = [v["start_s"] for v in talker["utterances"] if v is not u and v["start_s"] >= u["start_s"]]
    return min([scene["duration_s"], *nxt]) - end


def talker_rates(behavior: Behavior, rng) -> dict:
    """A talker's rates per minute (the first draws of its ``behavior-<label>`` stream, once per item)."""
    rates = {k: max(0.0, float(getattr(behavior, k).rate_per_min.sample(rng)))
             for k in ("repetition", "hesitation", "filler")}
    if behavior.restart.rate_per_min is not None:
        rates["restart"] = max(0.0, float(behavior.restart.rate_per_min.sample(rng)))
    return rates


def talker_record(behavior: Behavior, bank: FillerBank | None, rates: dict) -> dict:
    """What a recipe's talker block says of its behavior: the name, the drawn rates, a missing bank."""
    return {"name": behavior.name, "rates_per_min": {k: r4(v) for k, v in rates.items()},
            **({"fillers": "none: no filler bank (behavior.fillers)"} if bank is None else {})}


def draw_alone(behavior: Behavior, bank: FillerBank | None, seed: int, key: str, duration_s: float,
               words: list[dict] | None, text: str | None, gender: str | None = None) -> dict:
    """One utterance heard on its own (the Augmenter's): the whole recording ``[0, duration_s)`` as the
    utterance of talker ``A`` of a build item keyed ``key`` (stage ``behavior-A``: rates, then events, as
    :func:`apply_behavior` draws them). Returns the talker record with the utterance's ``behavior`` block
    (``pieces``... as in a build, ``{}`` when nothing was drawn, or ``{"skipped": ...}``)."""
    rng = item_rng(seed, key, "behavior-A")
    rates = talker_rates(behavior, rng)
    u = {"src_start_s": 0.0, "src_end_s": float(duration_s), "words": words, "text": text}
    draw_utterance(behavior, bank, u, rng, rates, gender)  # gender None: a filler of any gender
    return {**talker_record(behavior, bank, rates), **u["behavior"]}


def as_built_minutes(b: Behavior, bank: FillerBank | None, rates: dict, words: list[dict], minutes: float) -> float:
    """The minutes of speech an utterance of ``minutes`` source minutes lasts once its events are in (the
    rates are per minute of speech as heard, as ``synth fit --refs`` counts them in real recordings, whose
    minutes include the fillers and pauses): ``minutes / (1 - a / 60)``, ``a`` the seconds the events add
    per minute on average (their pauses' means, the bank's mean filler, this utterance's mean word for a
    repeat and two of them for a false start), capped so the correction stays below 2x."""
    word_s = sum(float(w["end"]) - float(w["start"]) for w in words) / len(words)
    m = b.mean_s
    a = (rates["hesitation"] * m["hesitation"] + rates["repetition"] * (word_s + m["repetition"])
         + (rates["filler"] * (bank.mean_duration_s + 2 * m["filler"]) if bank is not None else 0.0)
         + rates.get("restart", 0.0) * (2 * word_s + m["restart"]))
    return minutes / (1.0 - min(a, 30.0) / 60.0)


def _tokens(u: dict, words: list[dict]) -> list[str]:
    """The transcript's own tokens for the aligned words when they correspond one to one, else the words."""
    toks = str(u.get("text") or "").split()
    return toks if len(toks) == len(words) else [str(w["word"]) for w in words]


def _partial(token: str, frac: float) -> str:
    n = max(1, min(len(token) - 1, int(round(len(token) * frac)))) if len(token) > 1 else 1
    return token[:n] + "-"


def draw_utterance(b: Behavior, bank: FillerBank | None, u: dict, rng, rates: dict, gender: str | None,
                   cut: tuple[list | None, float] | None = None) -> float:
    """Draw one utterance's events; returns the seconds it gained that move later utterances (0: none).
    ``cut``: (the source's full alignment, seconds free after the utterance) for a truncated utterance whose
    cut fell inside a word: it may end inside that word (a fragment, not counted as gained)."""
    s0, s1 = float(u["src_start_s"]), float(u["src_end_s"])
    words = [w for w in (u.get("words") or []) if float(w["start"]) >= s0 - 1e-6 and float(w["end"]) <= s1 + 1e-6]
    if not words:
        u["behavior"] = {"skipped": SKIPPED_NO_WORDS}
        return 0.0
    n = len(words)
    minutes = as_built_minutes(b, bank, rates, words, (s1 - s0) / 60.0)
    toks = _tokens(u, words)
    restart = None
    p_restart = min(1.0, rates["restart"] * minutes) if "restart" in rates else b.restart.p
    if n >= 2 and rng.random() < p_restart:
        k = min(int(b.restart.words.sample(rng)), n - 1)
        partial = bool(rng.random() < b.restart.p_partial)
        frac = float(rng.uniform(0.3, 0.7))
        restart = (k, partial, frac, float(b.restart.pause_s.sample(rng)))
    inserts: list[tuple[int, int, dict]] = []   # (boundary, draw order, insertion); boundary -1: before the first word
    for kind in ("repetition", "hesitation", "filler"):
        m = int(rng.poisson(rates[kind] * minutes))
        if kind == "filler" and bank is None:
            m = 0
        for _ in range(m):
            if kind == "filler":
                at = int(rng.integers(-1, n - 1))
                f = bank.pick(rng, gender)
                ins = {"type": "filler", "filler": f, "before": float(b.filler.pause_s.sample(rng)),
                       "after": float(b.filler.pause_s.sample(rng)), "gain_db": float(b.filler.gain_db.sample(rng))}
            elif n < 2:
                continue
            else:
                at = int(rng.integers(0, n - 1))
                ins = {"type": kind, "pause": float(getattr(b, kind).pause_s.sample(rng))}
            inserts.append((at, len(inserts), ins))
    frag = _fragment(b, rng, s0, s1, *cut) if cut is not None else None
    if restart is None and not inserts and frag is None:
        u["behavior"] = {}
        return 0.0
    u["behavior"] = _layout(u, s0, s1, words, toks, restart, sorted(inserts, key=lambda x: (x[0], x[1])), frag)
    return r4(u["behavior"]["duration_s"] - ((frag[2] if frag else s1) - s0))


def _fragment(b: Behavior, rng, s0: float, s1: float, full: list | None, room: float):
    """(token, start, end) in source seconds of the word after a turn cut at ``s1``, spoken up to a drawn
    0.3-0.7 of it, or None: no such word within ``FRAGMENT_GAP_S``, not drawn (``partial_word.p``), or it
    would not fit in ``room`` seconds after ``s1``."""
    nxt = [w for w in full or () if float(w["end"]) > s1 + 1e-9 and float(w["start"]) >= s0 - 1e-6]
    if not nxt or float(nxt[0]["start"]) - s1 > FRAGMENT_GAP_S:
        return None
    said, frac = rng.random() < b.partial_word_p, float(rng.uniform(0.3, 0.7))  # both drawn: p changes no other draw
    if not said:
        return None
    on, off = float(nxt[0]["start"]), float(nxt[0]["end"])
    end = r4(on + frac * (off - on))
    if end - max(on, s1) < 2 * FADE_S or end - s1 >= room:  # room for the fade; the talker's next turn
        return None
    return _partial(str(nxt[0]["word"]), frac), r4(max(on, s1)), end


class _Timeline:
    """Pieces, verbatim words and events laid out one after another from the utterance's start."""

    def __init__(self):
        self.t, self.pieces, self.words, self.events = 0.0, [], [], []

    def source(self, a: float, b: float, fade_in: bool, fade_out: bool, words=(), partial=None) -> float:
        """Place source [a, b) at the current time; ``words``: (token, start, end) in source seconds."""
        at = self.t
        if b - a < 1e-6:  # two events at one boundary: nothing of the source between them
            return at
        self.pieces.append({"src_start_s": a, "src_end_s": b, "at_s": r4(at),
                            "fade_in_s": FADE_S if fade_in else 0.0, "fade_out_s": FADE_S if fade_out else 0.0})
        for tok, ws, we in words:
            self.words.append({"word": tok, "start": r4(at + ws - a), "end": r4(at + we - a)})
        self.t = r4(at + b - a)
        return at

    def pause(self, s: float) -> None:
        self.t = r4(self.t + s)

    def event(self, kind: str, start: float, end: float, words: list[str], **extra) -> None:
        self.events.append({"type": kind, "start": r4(start), "end": r4(end), "words": words, **extra})


def _layout(u, s0, s1, words, toks, restart, inserts, cut_word=None) -> dict:
    tl = _Timeline()
    first_on = max(s0, r4(float(words[0]["start"]) - LEAD_S))
    wt = [(toks[i], float(w["start"]), float(w["end"])) for i, w in enumerate(words)]
    text: list[str] = []
    start = s0
    if restart is not None:
        k, partial, frac, pause = restart
        whole = wt[: k - 1] if partial else wt[:k]
        if partial:
            tok, ws, we = wt[k - 1]
            cut = r4(ws + frac * (we - ws))
            frag = _partial(tok, frac)
        else:
            cut = wt[k - 1][2]
        at = tl.source(s0, cut, fade_in=False, fade_out=True, words=whole)
        said = [w[0] for w in whole]
        if partial:
            tl.words.append({"word": frag, "start": r4(at + ws - s0), "end": r4(at + cut - s0)})
            tl.event("partial_word", at + ws - s0, at + cut - s0, [frag])
            said.append(frag)
        tl.event("restart", at + wt[0][1] - s0, at + cut - s0, said)
        text += said
        tl.pause(pause)
        start = first_on
    cursor, fade_in, done = start, start > s0, 0
    for at_word, _, ins in inserts:
        cut = first_on if at_word < 0 else r4((wt[at_word][2] + wt[at_word + 1][1]) / 2)
        cut = max(cut, cursor)
        inside = [w for w in wt[done:] if w[2] <= cut + 1e-9]
        tl.source(cursor, cut, fade_in=fade_in, fade_out=True, words=inside)
        text += [w[0] for w in inside]
        done += len(inside)
        cursor, fade_in = cut, True
        if ins["type"] == "hesitation":
            tl.event("hesitation", tl.t, tl.t + ins["pause"], [])
            tl.pause(ins["pause"])
        elif ins["type"] == "repetition":
            tok, ws, we = wt[at_word]
            at = tl.source(ws, we, fade_in=True, fade_out=True, words=[(tok, ws, we)])
            tl.event("repetition", at, at + we - ws, [tok])
            text.append(tok)
            tl.pause(ins["pause"])
        else:
            f = ins["filler"]
            tl.pause(ins["before"])
            at = tl.t
            tl.pieces.append({"filler": f.path, "src_start_s": 0.0, "src_end_s": r4(f.duration_s), "at_s": r4(at),
                              "fade_in_s": 0.0, "fade_out_s": 0.0, "filler_level_dbov": f.level_dbov,
                              "gain_db": r4(ins["gain_db"])})
            tl.words.append({"word": f.word, "start": r4(at), "end": r4(at + f.duration_s)})
            tl.event("filler", at, at + f.duration_s, [f.word])
            text.append(f.word)
            tl.t = r4(at + f.duration_s)
            tl.pause(ins["after"])
    rest = wt[done:]
    text += [w[0] for w in rest]
    if cut_word is None:
        tl.source(cursor, s1, fade_in=fade_in, fade_out=False, words=rest)
    else:  # the turn cut inside a word: the source runs on into it and fades out
        tok, ws, end = cut_word
        at = tl.source(cursor, end, fade_in=fade_in, fade_out=True, words=rest)
        tl.words.append({"word": tok, "start": r4(at + ws - cursor), "end": r4(at + end - cursor)})
        tl.event("partial_word", at + ws - cursor, at + end - cursor, [tok])
        text.append(tok)
    return {"pieces": tl.pieces, "duration_s": tl.t, "text": " ".join(text), "words": tl.words, "events": tl.events}
