"""Where an interrupted utterance may be cut so that its transcript stays true: only at word ends from
the source's word alignments (:func:`cut_at`); without alignments an utterance is overlapped but never cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Cut:
    """A permissible truncation: keep source audio [src_start_s, cut_s) and the listed words."""

    cut_s: float                    # source-relative time where the audio stops
    kept_words: tuple[dict, ...]    # alignment entries fully before the cut
    text: str                       # the kept words joined by spaces
    partial_word: str | None        # the word that was cut through, if any (not in ``text``)


def cut_points(words: Sequence[dict] | None, src_start_s: float = 0.0) -> tuple[float, ...] | None:
    """Permissible cut times, relative to ``src_start_s``: the word ends (None without alignments)."""
    if not words:
        return None
    return tuple(float(w["end"]) - src_start_s for w in words if float(w["end"]) > src_start_s)


def cut_at(words: Sequence[dict] | None, desired_s: float, src_start_s: float = 0.0) -> Cut | None:
    """Truncate at or before ``desired_s`` (relative to ``src_start_s``) at the end of the last complete word.

    ``words``: alignments ``[{word, start, end}]`` in seconds from the source file's start (from the source
    manifest or a CTM, checked by :func:`synth.sources.schema.check_words`). The kept text is exactly the
    words that end at or before the cut; the first word cut through is ``partial_word``, not in the text
    (the segment is flagged ``truncated``), so no transcript holds a word whose audio is not wholly kept.
    Returns None when no cut is possible: no alignments, or no word ends by ``desired_s``.
    """
    if not words:
        return None
    t = src_start_s + desired_s
    kept = [w for w in words if float(w["start"]) >= src_start_s - 1e-9 and float(w["end"]) <= t + 1e-9]
    if not kept:
        return None
    cut = float(kept[-1]["end"])
    nxt = [w for w in words if float(w["end"]) > cut + 1e-9]
    partial = nxt[0]["word"] if nxt and float(nxt[0]["start"]) < t else None
    return Cut(cut_s=cut - src_start_s, kept_words=tuple(dict(w) for w in kept),
               text=" ".join(w["word"] for w in kept), partial_word=partial)


def find_pauses(x: np.ndarray, sr: int, min_pause_s: float = 0.15, frame_s: float = 0.02,
                rel_db: float = -30.0) -> list[tuple[float, float]]:
    """Pauses in an utterance by frame energy: frames more than ``rel_db`` below the utterance's active
    level (the 90th-percentile frame energy), lasting at least ``min_pause_s``. Returns [(start_s, end_s)]
    excluding leading and trailing silence. Informational: without knowing how many words precede a pause
    the transcript cannot be split there, so a pause alone never permits a cut (a caller that can count
    them passes word alignments instead)."""
    n = max(int(round(frame_s * sr)), 1)
    k = len(x) // n
    if k == 0:
        return []
    e = 10 * np.log10(np.mean(np.asarray(x[:k * n], dtype=np.float64).reshape(k, n) ** 2, axis=1) + 1e-12)
    active = np.percentile(e, 90)
    quiet = e < active + rel_db
    idx = np.flatnonzero(~quiet)
    if len(idx) == 0:
        return []
    out, i = [], idx[0]
    while i <= idx[-1]:
        if quiet[i]:
            j = i
            while quiet[j]:
                j += 1
            if (j - i) * frame_s >= min_pause_s:
                out.append((i * frame_s, j * frame_s))
            i = j
        else:
            i += 1
    return out
