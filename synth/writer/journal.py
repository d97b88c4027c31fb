"""The resume journal of a loose (unsharded) set: ``.parts/run-<k>.jsonl``, one file per build run.

As a run's items finish (their audio written), the build appends one line per item, ``<id>\\t<manifest
line>``, in item order; a killed build's rerun skips the items the journals list (after checking their
audio against ``audio_sha256``) and appends run k+1. :func:`merged` gives the manifest lines back in item
order, one at a time. A line cut off by a kill has no newline and is ignored, so its item is made again.

One file per run rather than one per item: a million-item build does not create a million small files
(and on a VM's ext4 creating a file costs ~0.2 ms of CPU, a few percent of an item's build). A sharded set
resumes from its finished shards instead (:mod:`synth.writer.shards`).
"""

from __future__ import annotations

import heapq
import json
from itertools import groupby, islice
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import SynthError

PARTS = ".parts"


def runs(out_dir: Path) -> list[Path]:
    """The journal files of ``out_dir``, oldest run first."""
    files = (Path(out_dir) / PARTS).glob("run-*.jsonl")
    return sorted((p for p in files if p.stem[4:].isdigit()), key=lambda p: int(p.stem[4:]))


def entries(path: Path) -> Iterator[tuple[str, str]]:
    """(item id, manifest line) for every whole line of one journal file."""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            item_id, tab, line = raw.partition("\t")
            if tab and raw.endswith("\n"):
                yield item_id, line[:-1]


def finished(out_dir: Path) -> dict[str, tuple[str, str]]:
    """Item id -> (audio_filepath, audio_sha256) of every item the journals list (a later run's line
    wins): what a rerun checks before it skips an item."""
    done = {}
    for path in runs(out_dir):
        for item_id, line in entries(path):
            try:
                item = json.loads(line)
                done[item_id] = (item["audio_filepath"], item["audio_sha256"])
            except (ValueError, KeyError, TypeError):
                continue
    return done


def count(out_dir: Path, ids: Iterable[str] | None = None) -> int:
    """How many distinct items (of ``ids``, when given) the journals list."""
    seen = {item_id for path in runs(out_dir) for item_id, _ in entries(path)}
    return len(seen if ids is None else seen.intersection(ids))


class Journal:
    """The journal of one run, appended as items finish. ``order`` maps every item id of the set to its
    position; lines must come in increasing position (executors return results in input order), which is
    what lets :func:`merged` stream the runs back together (None: lines copied from a manifest, in order)."""

    def __init__(self, out_dir: Path, order: dict[str, int] | None = None):
        old = runs(out_dir)
        k = int(old[-1].stem[4:]) + 1 if old else 0
        (Path(out_dir) / PARTS).mkdir(parents=True, exist_ok=True)
        self._file = open(Path(out_dir) / PARTS / f"run-{k}.jsonl", "x", encoding="utf-8")
        self._order, self._last = order, -1

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Append ``(id, manifest line)`` pairs (one executor chunk) and hand them to the OS."""
        text = []
        for item_id, line in items:
            if self._order is not None:
                pos = self._order[item_id]
                if pos <= self._last:
                    raise SynthError(f"internal error: item {item_id} finished out of order; rerun to resume the build")
                self._last = pos
            text.append(f"{item_id}\t{line}\n")
        self._file.write("".join(text))
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def merged(out_dir: Path, ids: list[str]) -> Iterator[str]:
    """The manifest line of each of ``ids``, in that order, streamed from all runs (an item made in two
    runs gets the later run's line). Raises if an item has none (the build did not finish it)."""
    order = {item_id: i for i, item_id in enumerate(ids)}
    streams = [((order[i], k, line) for i, line in entries(p) if i in order) for k, p in enumerate(runs(out_dir))]
    want = 0
    for pos, same_item in groupby(heapq.merge(*streams), key=lambda e: e[0]):
        if pos != want:
            break
        *_, (_, _, line) = same_item
        yield line
        want += 1
    if want != len(ids):
        raise SynthError(f"{Path(out_dir) / PARTS}: item {ids[want]} has no manifest line (the build did not "
                         "finish it); rerun the build to finish it")


def write_from_manifest(out_dir: Path, manifest: Path) -> None:
    """A journal (run 0) holding a finished set's manifest lines, so a rerun finds its items done."""
    with open(manifest, encoding="utf-8") as f, Journal(out_dir) as journal:
        lines = (l.rstrip("\n") for l in f if l.strip())
        for batch in iter(lambda: list(islice(lines, 1000)), []):
            journal.add((json.loads(l)["id"], l) for l in batch)
