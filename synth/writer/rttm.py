"""RTTM, the NIST diarization label format: writing a set's segments and reading real ones.

``SPEAKER <uri> <chan> <start_s> <dur_s> <NA> <NA> <speaker> <NA> <NA>`` per speech segment; other line
types (SPKR-INFO, LEXEME, ...) and ``#`` comments are ignored when reading.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from ..errors import BadInput


def rttm_lines(item: dict) -> list[str]:
    """``SPEAKER <id> <chan> <start> <dur> <NA> <NA> <speaker> <NA> <NA>`` per segment (NIST RTTM)."""
    out = []
    for s in item["segments"]:
        out.append(f"SPEAKER {item['id']} {s.get('channel', 0) + 1} {s['start']:.3f} {s['end'] - s['start']:.3f} "
                   f"<NA> <NA> {s['speaker']} <NA> <NA>")
    return out


def read_rttm(path: Path) -> dict[str, list[tuple[str, float, float]]]:
    """SPEAKER lines of an RTTM, grouped by recording id: {uri: [(speaker, start_s, end_s)]}.

    Other RTTM line types (SPKR-INFO, LEXEME, ...) and ``#`` comments are ignored. A malformed SPEAKER
    line raises :class:`BadInput` naming the file and line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(path, f"cannot be read as text ({e})", "pass an RTTM text file") from None
    out: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    fix = "expected 'SPEAKER <uri> <chan> <start_s> <dur_s> <NA> <NA> <speaker> <NA> <NA>'; fix or remove the line"
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines: it also splits at U+0085, U+2028
        f = line.split()
        if not f or f[0].startswith("#") or f[0].upper() != "SPEAKER":
            continue
        where = f"{path}:{n}"
        if len(f) < 8:
            raise BadInput(where, f"SPEAKER line has {len(f)} fields, need at least 8", fix)
        try:
            start, dur = float(f[3]), float(f[4])
        except ValueError:
            raise BadInput(where, f"start '{f[3]}' / duration '{f[4]}' is not a number", fix) from None
        if not (math.isfinite(start) and math.isfinite(dur)) or start < 0 or dur < 0:
            raise BadInput(where, f"start {f[3]} / duration {f[4]} must be finite and >= 0", fix)
        if dur > 0:
            out[f[1]].append((f[7], start, start + dur))
    return dict(out)


def rttm_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, ``*.rttm``) and check that every file exists."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("*.rttm"))
            if not found:
                raise BadInput(p, "folder contains no *.rttm files", "pass RTTM files or a folder holding them")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise BadInput(p, "does not exist", "pass existing RTTM files or folders")
    if not files:
        raise BadInput("(no paths)", "no RTTM files given", "pass RTTM files or a folder")
    return files


def speech_segments(path: Path, uri: str) -> list[tuple[float, float]]:
    """(start_s, end_s) of every speech segment of recording ``uri`` in the RTTM (all of them when no line
    names ``uri``: an RTTM written for one file under another name)."""
    by_uri = read_rttm(path)
    segs = by_uri.get(uri) or [s for rows in by_uri.values() for s in rows]
    return sorted((a, b) for _, a, b in segs)
