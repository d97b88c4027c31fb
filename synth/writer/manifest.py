"""Reading a set's manifest, and the manifest line's labels hash: a fingerprint of what the item claims
was said, and when.

``labels_sha256`` is the SHA-256 of the line's labels, ``{"segments": ..., "text": ...}``, written as
canonical JSON: keys sorted at every level, no whitespace (``separators=(",", ":")``), non-ASCII
characters kept as UTF-8 (``ensure_ascii=False``), numbers as Python's ``json`` writes them. ``synth
build`` stores it in every line; ``synth validate`` recomputes it, so a transcript or segment time edited
after the build is reported instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import BadInput


def labels_sha256(line: dict) -> str:
    labels = {"segments": line.get("segments"), "text": line.get("text")}
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_manifest(set_dir: Path) -> list[dict]:
    """Items of a built set, validated: id, audio_filepath (relative to the set folder), text."""
    path = Path(set_dir) / "manifest.jsonl"
    if not path.is_file():
        raise BadInput(path, "not found", "give the folder of a built set (it holds manifest.jsonl)")
    items, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise BadInput(path, f"line {n} is not valid JSON", "rebuild the set or fix the line") from None
        for key in ("id", "audio_filepath", "text"):
            if not isinstance(item, dict) or key not in item:
                raise BadInput(path, f"line {n} has no {key!r}", "rebuild the set or fix the line")
        if str(item["id"]) in seen:
            raise BadInput(path, f"line {n} repeats item id {item['id']!r}", "ids must be unique")
        seen.add(str(item["id"]))
        items.append(item)
    if not items:
        raise BadInput(path, "has no items", "build the set first")
    return items
