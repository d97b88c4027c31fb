"""Audio handed to external engines: 16-bit mono PCM, as WAV bytes or a temporary WAV file."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ...audio import load
from ...stops import signals_deferred


def pcm16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype(np.int16)


def wav_bytes(x: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    with signals_deferred():  # libsndfile calls back into Python for an in-memory file
        sf.write(buf, pcm16(x), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


class MaybeConverted:
    """Context manager yielding the path to give an external engine: the original, or a temp WAV."""

    def __init__(self, path: Path, sr: int | None):
        self.path, self.sr, self.tmp = Path(path), sr, None

    def __enter__(self) -> Path:
        if not self.sr:
            return self.path
        fd, name = tempfile.mkstemp(suffix=".wav", prefix="synth-eval-")
        os.close(fd)
        self.tmp = Path(name)
        self.tmp.write_bytes(wav_bytes(load(self.path, self.sr), self.sr))
        return self.tmp

    def __exit__(self, *exc):
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
