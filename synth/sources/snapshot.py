"""A checked speech source saved whole, so a start from a large corpus reads one file, not every row.

Saved as ``rows-<key>.json`` in the speech index's folder (:mod:`synth.sources.index`), keyed by the
sources root and the speech source, and valid while the manifests it was read from and the index's
``headers.json`` are unchanged (size and mtime) and no file was found changed on first use since. It
holds the pool's columns, the problems the rows and headers showed (replayed: raised, or listed as
skips) and the digest of the speech part of the sources fingerprint. Files are trusted as indexed until
first use (``sources.check=used``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..audio import atomic_write_text
from ..errors import BadInput
from .index import SourceIndex, file_stat, no_gc
from .speech import SpeechPool

FORMAT = 4


def manifests_of(spec: Path) -> list[str]:
    """The files whose content defines a speech source's rows."""
    if spec.is_dir() and (spec / "manifest.jsonl").exists():
        return [str(spec / "manifest.jsonl")]
    if spec.is_file():
        return [str(spec)]
    found = []
    for folder, _, names in os.walk(spec):  # a LibriSpeech tree: its transcript files
        found += [os.path.join(folder, n) for n in names if n.endswith(".trans.txt")]
    return sorted(found)


def _stamp(index: SourceIndex, spec: Path) -> list:
    files = [*manifests_of(spec), str(index.headers_file), str(index.changed_log)]  # changed: merge it first
    return [[p, *(file_stat(p) or (None, None))] for p in files]


def _path(index: SourceIndex, root: Path, spec: Path) -> Path:
    key = hashlib.blake2b(json.dumps([FORMAT, str(root), str(spec)]).encode(), digest_size=8).hexdigest()
    return index.folder / f"rows-{key}.json"


def load(index: SourceIndex, root: Path, spec: Path, first_use) -> tuple[SpeechPool, list[BadInput], dict] | None:
    """The saved pool of ``spec``, the problems its rows showed and its other rows (a corpus manifest's
    noise and RIR rows, by kind), or None if there is no valid save."""
    try:
        with no_gc():
            doc = json.loads(_path(index, root, spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("stamp") != _stamp(index, spec):
        return None
    try:
        pool = SpeechPool.from_saved(doc["pool"], os.path.join(str(root), ""), first_use)
        pool.derived["digest"] = doc["digest"]
        return pool, [BadInput(*p) for p in doc["problems"]], {k: [tuple(r) for r in v]
                                                                for k, v in doc["other_rows"].items()}
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # damaged: read the source again


def save(index: SourceIndex, root: Path, spec: Path, pool: SpeechPool, problems: list[BadInput], other_rows: dict) -> None:
    """Save a checked speech source (a cache: a place that cannot be written is not an error)."""
    index.save()  # its headers.json is part of the stamp
    doc = {"format": FORMAT, "stamp": _stamp(index, spec), "digest": pool.digest(),
           "problems": [[p.path, p.problem, p.fix] for p in problems], "other_rows": other_rows,
           "pool": pool.columns()}
    try:
        index.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(_path(index, root, spec), json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    except OSError:
        pass
