"""The one schema for the rows of every manifest synth reads, and the checks of a file against its row.

Rows come from a corpus ``manifest.jsonl`` (``path``, ``kind``, ``speaker``, ``transcript``,
``duration_s``, ``words``), a NeMo JSONL manifest (``audio_filepath``, ``text``, ``speaker``,
``duration``, ``words``) or a noise/RIR JSONL (``audio_filepath`` or ``path``, ``duration``). Each row
is type-checked here before anything uses it; a failure is a :class:`BadInput` naming ``file:line``,
the field and the fix (or, with ``on_bad_input=skip``, a recorded skip).

What a row claims is then checked against the audio (:func:`check_claims`):

* the file lasts what the row's ``duration``/``duration_s`` says, within ``max(0.05 s, 1 %)`` (a
  longer gap means a truncated or wrong file: its transcript would be a false label);
* every aligned word ends within 0.05 s of the file's end.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from ..audio import text_lines
from ..errors import BadInput

KINDS = ("speech", "noise", "rir", "conversation")
DURATION_TOL_S, DURATION_TOL_REL = 0.05, 0.01
WORD_END_TOL_S = 0.05
META_KEYS = ("gender", "accent", "language", "license", "corpus", "transcript_status")

Report = Callable[[BadInput], None]  # raises in error mode, records the skip in skip mode


def read_rows(path: Path, bad: Report | None = None) -> Iterator[tuple[str, dict]]:
    """``(where, row)`` for each non-empty line of a JSONL manifest that is a JSON object, one at a time.

    A line that is not JSON, or is JSON but not an object (``null``, a list, a number), is reported to
    ``bad`` (default: raised).
    """
    bad = bad or _raise
    for n, line in enumerate(text_lines(path), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            bad(BadInput(where, f"is not valid JSON ({e.msg})", "fix the line, remove it, or set on_bad_input=skip"))
            continue
        if not isinstance(row, dict):
            bad(BadInput(where, f"is {_json_type(row)}, not a JSON object",
                         'write one JSON object per line, remove the line, or set on_bad_input=skip'))
            continue
        yield where, row


def _raise(err: BadInput) -> None:
    raise err


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"a number ({v!r})"
    if isinstance(v, str):
        return "a string"
    return "a list" if isinstance(v, list) else "an object"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _field_error(where: str, key: str, problem: str, fix: str | None = None) -> BadInput:
    return BadInput(where, f"field '{key}' {problem}",
                    fix or f"fix '{key}' on that line, remove the line, or set on_bad_input=skip")


def _path(row: dict, where: str, keys: tuple[str, ...], base: Path) -> str:
    """The row's file as an absolute, normalized path string (strings: a corpus may have a million rows)."""
    key = next((k for k in keys if k in row), keys[0])
    v = row.get(key)
    if not isinstance(v, str) or not v.strip():
        raise _field_error(where, key, f"must be a file path (a non-empty string), got {_json_type(v)}")
    return os.path.normpath(os.path.join(base, v))


def _duration(row: dict, where: str, keys: tuple[str, ...]) -> float | None:
    key = next((k for k in keys if row.get(k) is not None), None)
    if key is None:
        return None
    v = row[key]
    if not _is_number(v) or not math.isfinite(v) or v < 0:
        raise _field_error(where, key, f"must be a finite number of seconds >= 0, got {v!r}")
    return float(v)


def row_kind(row: dict, where: str) -> str:
    """The ``kind`` of a corpus-manifest row (default ``speech``); any other value is bad input."""
    kind = row.get("kind", "speech")
    if kind not in KINDS:
        raise _field_error(where, "kind", f"is {kind!r}; allowed values are {', '.join(KINDS)}")
    return kind


def check_words(words: Any, where: str) -> list[dict] | None:
    """A word alignment: a list of ``{word: str, start: s, end: s}`` with 0 <= start <= end, in time order."""
    if words is None:
        return None
    if not isinstance(words, list):
        raise _field_error(where, "words", f"must be a list of {{word, start, end}}, got {_json_type(words)}")
    out, last = [], 0.0
    for i, w in enumerate(words):
        if not (isinstance(w, dict) and isinstance(w.get("word"), str)
                and all(_is_number(w.get(k)) and math.isfinite(w[k]) for k in ("start", "end"))):
            raise _field_error(where, "words", f"entry {i} must be {{word: text, start: s, end: s}}, got {w!r}")
        a, b = float(w["start"]), float(w["end"])
        if not 0 <= a <= b or a < last - 1e-6:
            raise _field_error(where, "words", f"entry {i} '{w['word']}' has times {a}..{b} "
                               "(need 0 <= start <= end, in time order)")
        last = b
        out.append({"word": w["word"], "start": a, "end": b})
    return out


def speech_row(row: dict, where: str, base: Path, path_keys: tuple[str, ...], text_keys: tuple[str, ...],
               duration_keys: tuple[str, ...], meta: dict) -> dict:
    """A speech row, checked and normalized: ``{where, path, speaker, text, duration_s, words, meta}``."""
    path = _path(row, where, path_keys, base)
    text_key = next((k for k in text_keys if k in row), text_keys[0])
    text = row.get(text_key)
    if text is not None and not isinstance(text, str):
        raise _field_error(where, text_key, f"must be the transcript as a string, got {_json_type(text)}")
    if not (text or "").strip():
        raise BadInput(where, f"utterance {os.path.basename(path)} has no transcript ('{text_key}')",
                       "add the transcript or set on_bad_input=skip")
    speaker = row.get("speaker")
    if speaker is None or speaker == "":
        raise BadInput(where, f"utterance {os.path.basename(path)} has no speaker id", "add a speaker field")
    if isinstance(speaker, bool) or not isinstance(speaker, (str, int)):
        raise _field_error(where, "speaker", f"must be a speaker id (string or integer), got {_json_type(speaker)}")
    offset = row.get("offset")
    if offset not in (None, 0, 0.0):
        raise _field_error(where, "offset", f"is {offset!r}: synth reads whole files, so a row for part of a "
                           "file would be labeled with the wrong audio",
                           "cut that part into its own file and point the row at it")
    return {"where": where, "path": path, "speaker": str(speaker), "text": " ".join(text.split()),
            "duration_s": _duration(row, where, duration_keys), "words": check_words(row.get("words"), where),
            "meta": meta}


def file_row(row: dict, where: str, base: Path) -> dict:
    """A noise or RIR row: ``{where, path, duration_s, meta}``."""
    return {"where": where, "path": _path(row, where, ("audio_filepath", "path"), base),
            "duration_s": _duration(row, where, ("duration", "duration_s")),
            "meta": {k: row[k] for k in ("license", "corpus", "notes") if row.get(k)}}


def duration_tolerance_s(claimed_s: float) -> float:
    return max(DURATION_TOL_S, DURATION_TOL_REL * claimed_s)


def check_claims(row: dict, real_s: float) -> None:
    """The file at ``row['path']`` (``real_s`` long) against the row's duration and word times."""
    claimed = row.get("duration_s")
    if claimed is not None and abs(real_s - claimed) > duration_tolerance_s(claimed):
        hint = "the file may be truncated" if real_s < claimed else "the file may not be the one the row describes"
        raise BadInput(row["path"], f"lasts {real_s:.3f} s but {row['where']} says {claimed:.3f} s: {hint}",
                       "restore the file or fix the duration in the manifest, or set on_bad_input=skip")
    words = row.get("words") or []
    if words and words[-1]["end"] > real_s + WORD_END_TOL_S:
        w = words[-1]
        raise BadInput(row["path"], f"lasts {real_s:.3f} s but its word alignment at {row['where']} has "
                       f"'{w['word']}' ending at {w['end']:.3f} s", "fix the alignment or restore the file")
