"""Is an alignment plausible? A forced aligner returns *some* times whenever it finds a path, also for a
transcript that does not match its audio (words squeezed, stretched over speech that is not theirs,
pauses laid over speech): :func:`problems` lists what gives such an alignment away.
"""

from __future__ import annotations

from .aligner import MIN_FRAMES_PER_PHONE, Alignment
from .text import HESITATIONS

MIN_SCORE = -35.0
MIN_WORD_SCORE = -110.0
MIN_PAUSE_SCORE = -60.0
PAUSE_MIN_S = 0.1
MAX_PHONE_S = 0.8
MAX_FILLER_PHONE_S = 1.5
MAX_MIN_PHONE_SHARE = 0.4


def metrics(a: Alignment) -> dict:
    """What the checks look at, per utterance (scores per 10 ms frame, times in seconds)."""
    words = [u for u in a.units if not u.unit.startswith("[")]
    frames = sum(u.frames for u in words) or 1
    phones = [p for u in words for p in u.phones]
    squeezed = [all(p.frames <= MIN_FRAMES_PER_PHONE for p in u.phones) for u in words]
    pauses = [u for u in a.silences if u.frames * 0.01 >= PAUSE_MIN_S - 1e-9]
    return {
        "score": round(sum(u.score for u in words) / frames, 2),
        "worst_word_score": round(min((u.score / u.frames for u in words), default=0.0), 2),
        "worst_pause_score": round(min((u.score / u.frames for u in pauses), default=0.0), 2),
        "longest_phone_s": round(max((p.frames for u in words if a.tokens[u.token].spoken not in HESITATIONS
                                      for p in u.phones), default=0) * 0.01, 2),
        "longest_hesitation_phone_s": round(max((p.frames for u in words if a.tokens[u.token].spoken in HESITATIONS
                                                 for p in u.phones), default=0) * 0.01, 2),
        "min_phone_share": round(sum(p.frames <= MIN_FRAMES_PER_PHONE for p in phones) / max(1, len(phones)), 3),
        "last_word_squeezed": bool(squeezed and squeezed[-1]),
        "squeezed_in_a_row": max(_runs(squeezed), default=0),
    }


def _runs(flags: list[bool]) -> list[int]:
    out, n = [], 0
    for f in flags:
        n = n + 1 if f else 0
        out.append(n)
    return out


def problems(a: Alignment, m: dict | None = None) -> list[str]:
    """The checks ``a`` fails, each as ``kind: what was found`` (empty: plausible; else the utterance is
    listed and written without ``words``):

    ``low_score``         its words' acoustic score per 10 ms frame is below ``MIN_SCORE``;
    ``bad_word``          one word scores below ``MIN_WORD_SCORE`` per frame (a word that is not there);
    ``speech_in_pause``   a pause of at least ``PAUSE_MIN_S`` scores below ``MIN_PAUSE_SCORE`` per frame as
                          silence: speech the transcript does not have;
    ``long_phone``        a phone lasts longer than ``MAX_PHONE_S`` (``MAX_FILLER_PHONE_S`` in a hesitation
                          such as "uh", which speakers drag out);
    ``squeezed``          the last word, or two words in a row, have every phone at pocketsphinx's minimum
                          (3 frames, 30 ms): words the audio has no room for;
    ``min_phones``        more than ``MAX_MIN_PHONE_SHARE`` of all phones are at that minimum.

    Scores are pocketsphinx's acoustic log scores of the aligned path per 10 ms frame (its integer log
    units; nearer 0 fits better): studio speech scores about -12, telephone calls about -22, a wrong
    transcript far lower. A word cannot be shorter than 30 ms per phone (3 HMM states, no skips), so
    "too short" shows as words at that minimum. Thresholds were set on ../shared/corpus/telephone (narrowband
    calls, the hardest audio there): each sits at about the 1st percentile of the correct transcripts' values;
    the share of deliberately wrong transcripts caught is measured in scripts/measure_alignment.py.
    """
    m = m or metrics(a)
    out = []
    if m["score"] < MIN_SCORE:
        out.append(f"low_score: {m['score']} per frame (< {MIN_SCORE})")
    if m["worst_word_score"] < MIN_WORD_SCORE:
        w = min((u for u in a.units if not u.unit.startswith("[")), key=lambda u: u.score / u.frames)
        out.append(f"bad_word: '{a.tokens[w.token].word}' at {w.start_f * 0.01:.2f} s scores "
                   f"{m['worst_word_score']} per frame (< {MIN_WORD_SCORE})")
    if m["worst_pause_score"] < MIN_PAUSE_SCORE:
        p = min((u for u in a.silences if u.frames * 0.01 >= PAUSE_MIN_S - 1e-9), key=lambda u: u.score / u.frames)
        out.append(f"speech_in_pause: the pause {p.start_f * 0.01:.2f}-{p.end_f * 0.01:.2f} s scores "
                   f"{m['worst_pause_score']} per frame as silence (< {MIN_PAUSE_SCORE})")
    if m["longest_phone_s"] > MAX_PHONE_S:
        out.append(f"long_phone: a phone lasts {m['longest_phone_s']} s (> {MAX_PHONE_S} s)")
    if m["longest_hesitation_phone_s"] > MAX_FILLER_PHONE_S:
        out.append(f"long_phone: a hesitation's phone lasts {m['longest_hesitation_phone_s']} s "
                   f"(> {MAX_FILLER_PHONE_S} s)")
    if m["last_word_squeezed"] or m["squeezed_in_a_row"] >= 2:
        out.append("squeezed: " + ("the last word has" if m["last_word_squeezed"] else
                                   f"{m['squeezed_in_a_row']} words in a row have") + " every phone at the 30 ms minimum")
    if m["min_phone_share"] > MAX_MIN_PHONE_SHARE:
        out.append(f"min_phones: {m['min_phone_share']:.0%} of the phones at the 30 ms minimum "
                   f"(> {MAX_MIN_PHONE_SHARE:.0%})")
    return out
