"""A checked speech source saved whole, so a start from a large corpus reads one file, not every row.

Saved as ``rows-<key>.json`` in the speech index's folder (:mod:`synth.sources.index`), keyed by the
sources root and the speech source, and valid while the manifests it was read from and the index's
``headers.json`` are unchanged (size and mtime) and no file was found changed on first use since. It holds the utterances as columns, the problems the
rows and headers showed (replayed: raised, or listed as skips) and the digest of the speech part of
the sources fingerprint. Files are trusted as indexed until first use (``sources.check=used``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..audio import atomic_write_text
from ..errors import BadInput
from .index import SourceIndex, file_stat, no_gc
from .speech import Utterance, utterance_id

FORMAT = 2


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


def load(index: SourceIndex, root: Path, spec: Path) -> tuple[list[Utterance], list[BadInput], str, dict] | None:
    """The saved utterances, problems, speech digest and other rows (a corpus manifest's noise and RIR
    rows, by kind) of ``spec``, or None if there is no valid save."""
    try:
        with no_gc():
            doc = json.loads(_path(index, root, spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("stamp") != _stamp(index, spec):
        return None
    try:
        with no_gc():
            return _unpack(doc, root)
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # damaged: read the source again


def _unpack(doc: dict, root: Path) -> tuple[list[Utterance], list[BadInput], str, dict]:
    c = doc["columns"]
    metas, words = doc["metas"], {int(k): v for k, v in doc["words"].items()}
    speakers: dict[str, str] = {}
    prefix = os.path.join(str(root), "")
    cut = len(prefix)
    out = []
    for i, (path, speaker, text, duration, meta, size, mtime) in enumerate(zip(
            c["path"], c["speaker"], c["text"], c["duration_s"], c["meta"], c["size"], c["mtime_ns"])):
        rel = path[cut:] if path.startswith(prefix) else path  # as _rel; inlined: 10^5-10^6 rows
        out.append(Utterance(utterance_id(rel), path, rel, speakers.setdefault(speaker, speaker), text, duration,
                             metas[meta], words.get(i), (size, mtime)))
    problems = [BadInput(*p) for p in doc["problems"]]
    return out, problems, doc["digest"], {k: [tuple(r) for r in v] for k, v in doc["other_rows"].items()}


def save(index: SourceIndex, root: Path, spec: Path, utterances: list[Utterance], problems: list[BadInput],
         digest: str, other_rows: dict) -> None:
    """Save a checked speech source (a cache: a place that cannot be written is not an error)."""
    index.save()  # its headers.json is part of the stamp
    metas: dict[str, int] = {}
    table: list[dict] = []
    meta_of = []
    for u in utterances:
        k = json.dumps(u.meta, sort_keys=True)
        if k not in metas:
            metas[k] = len(table)
            table.append(u.meta)
        meta_of.append(metas[k])
    doc = {"format": FORMAT, "stamp": _stamp(index, spec), "digest": digest,
           "problems": [[p.path, p.problem, p.fix] for p in problems], "metas": table, "other_rows": other_rows,
           "words": {str(i): u.words for i, u in enumerate(utterances) if u.words is not None},
           "columns": {"path": [u.path for u in utterances], "speaker": [u.speaker for u in utterances],
                       "text": [u.text for u in utterances], "duration_s": [u.duration_s for u in utterances],
                       "meta": meta_of, "size": [u.stat[0] for u in utterances],
                       "mtime_ns": [u.stat[1] for u in utterances]}}
    try:
        index.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(_path(index, root, spec), json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    except OSError:
        pass
