"""Behavior rates counted in real verbatim transcripts (``synth fit --refs <manifest>``), written into a
fitted profile's ``behavior`` group so a build reproduces them.

Counted per minute of recording (the ``duration`` of each row), in the LDC/Switchboard convention of
../shared/corpus/telephone's ``text_verbatim`` (read by :func:`synth.align.text.tokens`):

* **fillers**: "uh", "um", "er", "ah", "hm"... (:data:`synth.align.text.HESITATIONS`);
* **fragments** (partial words): a word cut off at its end, ``th-``; a word whose *start* is missing
  (``-ing``) was cut by where the recording or transcript begins, not by the talker, and is not counted;
* **restarts**: every fragment (the talker stopped inside a word and went on), plus a run of 2-4 words
  said again at once ("I want I want to");
* **repetitions**: a word said twice in a row ("I I"), not counting fillers, the row's ``keyword`` and runs
  of three or more (chanted or lexical: "blah blah blah", "row row row");
* **hesitations**: pauses of at least ``HESITATION_S`` between aligned words inside a row (rows with
  ``words``, e.g. from ``synth align``); without alignments this is left out and said so.

Every fragment counts toward the restarts (``restart.p_partial`` = fragments / restarts). The chance that
a turn cut off by an interruption stops inside a word (``partial_word.p``) is not fitted: a transcript
row does not say whether its turn was interrupted, so there is nothing to divide its final fragments by
(the telephone calls' rows are single replies: 2 of their 19 fragments end a row). The block leaves it
out (default 0: a fitted set's fragments are its restarts', at the counted rate), and ``measured`` says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..align.text import HESITATIONS, tokens
from ..audio import text_lines
from ..errors import BadInput

HESITATION_S = 0.5


def count_row(text: str, keyword: str | None = None) -> dict:
    """Fillers, fragments, restarts and repetitions in one verbatim transcript."""
    toks = [t for t in tokens(text) if t.word is not None]
    words = [t.spoken.strip("-") if t.kind == "fragment" else t.spoken for t in toks]
    fillers = sum(w in HESITATIONS for w in words)
    fragments = sum(t.kind == "fragment" and t.word.endswith("-") for t in toks)
    plain = [w for t, w in zip(toks, words) if w not in HESITATIONS and t.kind != "fragment"]
    kw = (keyword or "").lower()
    runs: list[list] = []  # [word, times said in a row]
    for w in plain:
        if runs and runs[-1][0] == w:
            runs[-1][1] += 1
        else:
            runs.append([w, 1])
    reps = sum(1 for w, k in runs if k == 2 and w != kw)
    phrase_restarts = sum(plain[i:i + n] == plain[i + n:i + 2 * n] and len(set(plain[i:i + n])) > 1
                          for n in (2, 3, 4) for i in range(len(plain) - 2 * n + 1))
    return {"fillers": fillers, "fragments": fragments, "restarts": fragments + phrase_restarts, "repetitions": reps}


def pauses(words: list[dict]) -> list[float]:
    """Gaps of at least ``HESITATION_S`` between consecutive aligned words (s)."""
    return [float(b["start"]) - float(a["end"]) for a, b in zip(words, words[1:])
            if float(b["start"]) - float(a["end"]) >= HESITATION_S]


def read_refs(path: str | Path, text_key: str | None = None, by: str | None = None) -> list[dict]:
    """Rows of a NeMo-style manifest with a verbatim transcript (``text_verbatim`` if present, else
    ``text``, or ``text_key``) and a ``duration``; ``by``: also keep that metadata key's value (``"by"``)."""
    path = Path(path)
    rows = []
    for n, line in enumerate(text_lines(path), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            key = text_key or ("text_verbatim" if "text_verbatim" in r else "text")
            rows.append({"text": str(r[key]), "duration": float(r["duration"]), "keyword": r.get("keyword"),
                         "words": r.get("words"), **({"by": r.get(by)} if by else {})})
        except (ValueError, KeyError, TypeError):
            raise BadInput(path, f"line {n} has no transcript ({text_key or 'text_verbatim or text'}) and duration",
                           "give a NeMo-style manifest with a verbatim transcript (--refs)") from None
    if not rows or sum(r["duration"] for r in rows) <= 0:
        raise BadInput(path, "has no rows with a duration", "give a manifest of real transcribed recordings")
    return rows


def fit_behavior(path: str | Path, text_key: str | None = None) -> tuple[dict, dict]:
    """(the ``behavior`` config block, what was counted). Rates are constants per minute of recording."""
    return behavior_from_rows(read_refs(path, text_key))


def fit_behavior_by(path: str | Path, key: str, values, text_key: str | None = None) -> dict:
    """``{value: (block, measured)}`` for ``synth fit --by <key> --refs``: each value's rates from the refs
    rows with that ``key``; a value no row has (or refs without the key at all) gets the rates of all rows,
    and its ``measured`` says so."""
    rows = read_refs(path, text_key, by=key)
    pooled = None
    out = {}
    for value in values:
        mine = [r for r in rows if r["by"] is not None and str(r["by"]) == str(value)]
        if mine:
            out[value] = behavior_from_rows(mine)
            out[value][1]["rows"] = f"the {len(mine)} refs rows with {key}={value}"
            continue
        pooled = pooled or behavior_from_rows(rows)
        block, measured = pooled
        out[value] = (dict(block), {**measured, "rows": f"all {len(rows)} refs rows: none has {key}={value}"})
    return out


def behavior_from_rows(rows: list[dict]) -> tuple[dict, dict]:
    """(the ``behavior`` block, what was counted) from rows of :func:`read_refs`."""
    counts = {k: 0 for k in ("fillers", "fragments", "restarts", "repetitions")}
    for r in rows:
        for k, v in count_row(r["text"], r["keyword"]).items():
            counts[k] += v
    minutes = sum(r["duration"] for r in rows) / 60.0
    per_min = {k: round(v / minutes, 4) for k, v in counts.items()}
    measured = {"n_rows": len(rows), "minutes": round(minutes, 3), "counts": counts, "per_min": per_min}
    block = {"name": "fitted", "fillers": None,
             "restart": {"rate_per_min": per_min["restarts"],
                         "p_partial": round(counts["fragments"] / counts["restarts"], 4) if counts["restarts"] else 0.0},
             "repetition": {"rate_per_min": per_min["repetitions"]},
             "filler": {"rate_per_min": per_min["fillers"]}}
    measured["partial_word"] = ("not fitted: rows do not say which turns were interrupted; "
                                "behavior.partial_word.p stays 0 unless set")
    aligned = [r for r in rows if r["words"]]
    if aligned:
        gaps = [g for r in aligned for g in pauses(r["words"])]
        m = sum(r["duration"] for r in aligned) / 60.0
        block["hesitation"] = {"rate_per_min": round(len(gaps) / m, 4)}
        if len(gaps) >= 5:
            lo, hi = np.quantile(gaps, [0.1, 0.9])
            block["hesitation"]["pause_s"] = [round(float(lo), 3), round(float(min(hi, 10.0)), 3)]
        measured.update(hesitations=len(gaps), aligned_rows=len(aligned))
    else:
        block["hesitation"] = {"rate_per_min": 0.0}
        measured["hesitations"] = "not measured: the refs have no word alignments (synth align adds them)"
    return block, measured
