"""A filler bank read for building: real "uh"/"um" tokens cut by ``synth align --fillers`` (its
``manifest.jsonl``: ``audio_filepath`` relative to the bank, ``duration`` s, ``word``, ``level_dbov`` P.56,
speaker metadata such as ``gender``). Read once per plan; a draw picks a row, never audio."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

from ..audio import text_lines
from ..errors import BadInput


@dataclass(frozen=True)
class Filler:
    path: str          # absolute
    word: str
    duration_s: float
    level_dbov: float
    gender: str | None


@dataclass(frozen=True)
class FillerBank:
    folder: str
    fillers: tuple[Filler, ...]

    @property
    def mean_duration_s(self) -> float:
        return sum(f.duration_s for f in self.fillers) / len(self.fillers)

    def pick(self, rng, gender: str | None) -> Filler:
        """A filler of a talker of the same gender when the bank has one, else any (uniform)."""
        same = [f for f in self.fillers if gender and f.gender == gender]
        pool = same or list(self.fillers)
        return pool[int(rng.integers(len(pool)))]


def read_bank(folder: str) -> FillerBank:
    """The bank in ``folder``; a row without audio, duration or a finite level is a one-line error."""
    manifest = os.path.join(folder, "manifest.jsonl")
    rows = []
    for n, line in enumerate(text_lines(manifest), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            f = Filler(path=os.path.join(folder, r["audio_filepath"]), word=str(r["word"]),
                       duration_s=float(r["duration"]), level_dbov=float(r["level_dbov"]), gender=r.get("gender"))
        except (ValueError, KeyError, TypeError):
            raise BadInput(manifest, f"line {n} is not a filler bank row (audio_filepath, word, duration, level_dbov)",
                           "write the bank again with `synth align ... --fillers <folder>`") from None
        if not math.isfinite(f.level_dbov) or f.duration_s <= 0:
            raise BadInput(manifest, f"line {n}: level_dbov {f.level_dbov} / duration {f.duration_s} not usable",
                           "remove the line or write the bank again")
        if not os.path.isfile(f.path):
            raise BadInput(f.path, f"(filler bank line {n}) is missing", "write the bank again")
        rows.append(f)
    if not rows:
        raise BadInput(manifest, "has no fillers", "harvest from a verbatim corpus that has 'uh'/'um' tokens")
    return FillerBank(folder, tuple(rows))
