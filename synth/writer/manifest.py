"""The manifest line's labels hash: a fingerprint of what the item claims was said, and when.

``labels_sha256`` is the SHA-256 of the line's labels, ``{"segments": ..., "text": ...}``, written as
canonical JSON: keys sorted at every level, no whitespace (``separators=(",", ":")``), non-ASCII
characters kept as UTF-8 (``ensure_ascii=False``), numbers as Python's ``json`` writes them. ``synth
build`` stores it in every line; ``synth validate`` recomputes it, so a transcript or segment time edited
after the build is reported instead of trusted.
"""

from __future__ import annotations

import hashlib
import json


def labels_sha256(line: dict) -> str:
    labels = {"segments": line.get("segments"), "text": line.get("text")}
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
