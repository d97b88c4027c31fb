"""Disfluencies on the caller's own utterance (the ``behavior`` group in an Augmenter): a restart, repeated
words, added pauses and real fillers, drawn by the build's code (:func:`synth.behavior.draw.draw_alone`) from
the utterance's word alignments and placed from the caller's samples (:func:`synth.behavior.place.place_pieces`)
before the talker/leg/recorder chain. The utterance gets longer by the seconds the events add.

The recipe's ``behavior`` block holds the draw and the labels on the output timeline: ``text`` (verbatim),
``text_fluent`` (the given transcript), ``words`` (verbatim, with times) and ``events`` (``[{type, start,
end, words}]``, as in a build's segments). An utterance without word alignments, or not augmented (the
Augmenter's ``p``), is left fluent and the block says why (``skipped``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..audio import active_speech_level
from ..behavior.draw import draw_alone
from ..behavior.place import place_pieces
from ..errors import BadInput
from ..sources.schema import check_words

SKIPPED_NOT_APPLIED = "not augmented (the Augmenter's p)"
END_SLACK_S = 0.05  # an aligner's last frame may end this far after the last sample (clipped to the input)
WORDS = "Augmenter words"
WORDS_FIX = ("pass the utterance's word alignments as [{word, start, end}] in seconds from its first sample "
             "(as `synth align` writes them), or words=None")


def check_labels(words, text, duration_s: float) -> tuple[list[dict] | None, str | None]:
    """``(words, text)`` checked as for a source manifest (:func:`synth.sources.schema.check_words`) and
    within the input's ``duration_s``; ``text`` defaults to the aligned words. Bad ones are one-line errors."""
    if text is not None and not isinstance(text, str):
        raise BadInput("Augmenter text", f"is a {type(text).__name__}", "pass the transcript as a string, or text=None")
    try:
        checked = check_words(words, WORDS)
    except BadInput as e:
        raise BadInput(WORDS, e.problem.removeprefix("field 'words' "), WORDS_FIX) from None
    if not checked:
        return None, text
    last = checked[-1]  # ends are in time order
    if last["end"] > duration_s + END_SLACK_S:
        raise BadInput(WORDS, f"entry {len(checked) - 1} '{last['word']}' ends at {last['end']} s, after the "
                       f"input's {duration_s:.3f} s", "pass this utterance's own alignment "
                       "(seconds from its first sample, as `synth align` writes it)")
    checked = [{**w, "start": min(w["start"], duration_s), "end": min(w["end"], duration_s)} for w in checked]
    return checked, text if text is not None else " ".join(w["word"] for w in checked)


def check_gender(gender) -> str | None:
    """The talker's gender as given (a string such as the bank's ``"F"``/``"M"``), or None."""
    if gender is not None and not isinstance(gender, str):
        raise BadInput("Augmenter gender", f"is a {type(gender).__name__}",
                       "pass the talker's gender as the filler bank spells it (e.g. 'F'), or gender=None")
    return gender


def draw(plan, key: str, applied: bool, duration_s: float, words: list[dict] | None, text: str | None,
         gender: str | None = None) -> dict:
    """The recipe's ``behavior`` block for one utterance of ``duration_s`` seconds (stage ``behavior-A`` of
    ``key``, as a build's single talker): the talker record, the draw, and the labels."""
    fluent = {"text": text, "text_fluent": text, "words": words, "events": []}
    if not applied:
        return {"name": plan.behavior.name, "skipped": SKIPPED_NOT_APPLIED, **fluent}
    b = draw_alone(plan.behavior, plan.fillers, plan.seed, key, duration_s, words, text, gender)
    return {**b, "text_fluent": text} if b.get("pieces") else {**b, **fluent}


def place(x: np.ndarray, b: dict, ctx, sr: int) -> np.ndarray:
    """``x`` (``(C, T)`` float32) with the pieces of the block ``b`` placed: ``(C, round(b.duration_s * sr))``.
    Every channel gets the same pieces; a filler's level is matched to the first channel's P.56 level
    (one gain for all channels, as one talker's voice reaches every microphone)."""
    fillers = any("filler" in p for p in b["pieces"])
    level = active_speech_level(x[0], sr).level_dbov if fillers else None
    out = np.zeros((len(x), int(round(b["duration_s"] * sr))), dtype=np.float32)
    u = {"start_s": 0.0, "behavior": b}
    for c in range(len(x)):
        place_pieces(out[c], u, ctx, sr, src=x[c], level_dbov=level)
    return out


def labels(b: dict | None) -> dict:
    """The Augmented fields a recipe's block gives (none without a behavior)."""
    if b is None:
        return {}
    return {"text": b.get("text"), "text_fluent": b.get("text_fluent"), "words": b.get("words"),
            "events": list(b.get("events") or [])}


def summary(b: dict, input_s: float) -> dict:
    """``conditions["behavior"]``: the name and the reason it was skipped, or the events and seconds gained."""
    if "skipped" in b:
        return {"name": b["name"], "skipped": b["skipped"]}
    return {"name": b["name"], "events": dict(Counter(e["type"] for e in b.get("events") or [])),
            "gained_s": round(float(b.get("duration_s", input_s)) - input_s, 4)}
