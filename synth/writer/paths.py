"""Where a set's files may go: only inside its out_dir."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SynthError


def inside(out_dir: Path, rel: str) -> Path:
    """``out_dir / rel``, refused if ``rel`` would lead out of out_dir."""
    norm = os.path.normpath(rel)
    if os.path.isabs(norm) or norm == ".." or norm.startswith(".." + os.sep):
        raise SynthError(f"refusing to write {rel!r}: it lies outside out_dir={out_dir}; item ids, channel leg "
                         "and talker names must be plain names (letters, digits and _ . + -)")
    return out_dir / rel
