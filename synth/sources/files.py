"""Noise and room-impulse-response files: recorded backgrounds and measured rooms.

Read from a corpus manifest (``kind: noise`` / ``kind: rir``) or from a plain folder of audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

AUDIO_EXTS = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au", ".w64", ".caf", ".mp3", ".opus"}


@dataclass(frozen=True)
class SourceFile:
    """A noise recording or an RIR: where it is and what we know about it."""

    id: str
    path: Path
    rel_path: str
    duration_s: float
    sr: int
    channels: int
    meta: dict = field(default_factory=dict)


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_EXTS and p.is_file())
