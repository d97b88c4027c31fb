"""Label files for a whole set: RTTM (diarization), CTM (word times, when alignments are known), STM and
meeteval's SegLST, written item by item (:class:`LabelWriter`) so a set of any size streams through."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

from ..audio import atomic_open
from .rttm import rttm_lines

# the set's label files; a shard's are labels/<stem>_<shard>.<ext> (see label_names)
LABEL_FILES = {"rttm": "segments.rttm", "ctm": "words.ctm", "stm": "references.stm",
               "seglst": "references.seglst.json"}


def label_names(shard: int | None = None) -> dict[str, str]:
    """Paths (relative to the set) of the set's label files, or of one shard's."""
    if shard is None:
        return dict(LABEL_FILES)
    split = {k: v.split(".", 1) for k, v in LABEL_FILES.items()}
    return {k: f"labels/{stem}_{shard:05d}.{ext}" for k, (stem, ext) in split.items()}


def ctm_lines(item: dict) -> list[str]:
    """``<id> <chan> <start> <dur> <word>`` for segments whose source had word alignments."""
    out = []
    for s in item["segments"]:
        for w in s.get("words") or []:
            out.append(f"{item['id']} {s.get('channel', 0) + 1} {w['start']:.3f} {w['end'] - w['start']:.3f} {w['word']}")
    return out


def seglst(items: list[dict]) -> list[dict]:
    """Per-speaker reference segments in meeteval's SegLST format (``meeteval-wer cpwer -r <this>``)."""
    return [{"session_id": it["id"], "speaker": s["speaker"], "start_time": s["start"], "end_time": s["end"],
             "words": s["text"]} for it in items for s in it["segments"]]


def stm_lines(item: dict) -> list[str]:
    """NIST STM: ``<file> <channel> <speaker> <start> <end> <transcript>``, sorted by start time."""
    return [f"{item['id']} {s.get('channel', 0) + 1} {s['speaker']} {s['start']:.3f} {s['end']:.3f} {s['text']}"
            for s in sorted(item["segments"], key=lambda s: (s["start"], s["speaker"]))]


class LabelWriter:
    """Writes the label files of :func:`label_names` one item at a time, each atomically when the
    block exits (nothing is left behind if it fails). The CTM is written only if some item has word times."""

    def __init__(self, out_dir: Path, names: dict[str, str]):
        self.out_dir, self.names = Path(out_dir), names
        self._stack = ExitStack()
        self._files: dict = {}
        self._n_seglst = 0

    def __enter__(self) -> "LabelWriter":
        for kind in ("rttm", "stm", "seglst"):
            self._files[kind] = self._stack.enter_context(atomic_open(self.out_dir / self.names[kind]))
        self._files["seglst"].write("[")
        return self

    def add(self, item: dict) -> None:
        self._files["rttm"].writelines(l + "\n" for l in rttm_lines(item))
        self._files["stm"].writelines(l + "\n" for l in stm_lines(item))
        ctm = ctm_lines(item)
        if ctm and "ctm" not in self._files:
            self._files["ctm"] = self._stack.enter_context(atomic_open(self.out_dir / self.names["ctm"]))
        if ctm:
            self._files["ctm"].writelines(l + "\n" for l in ctm)
        for entry in seglst([item]):  # the layout of json.dumps(list, indent=1), one entry at a time
            self._files["seglst"].write(("\n " if self._n_seglst == 0 else ",\n ")
                                        + json.dumps(entry, ensure_ascii=False, indent=1).replace("\n", "\n "))
            self._n_seglst += 1

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self._files["seglst"].write("\n]" if self._n_seglst else "]")
        self._stack.__exit__(*exc)
