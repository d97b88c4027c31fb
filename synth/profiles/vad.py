"""Speech activity detection for fitting profiles from real recordings.

Models *where someone is talking* in a recording, so the estimators can measure speech on speech frames
and noise on the rest. Output: one speech probability per 32 ms frame (512 samples at 16 kHz); input of
any rate is resampled to 16 kHz first.

Backends, in order of preference:

* ``silero``: silero-vad's ONNX model, shipped inside the ``silero_vad`` wheel and run with onnxruntime
  directly. The package itself is never imported (its ``__init__`` imports torch); we only locate its
  ``data/`` folder with ``importlib.util.find_spec``. Two exports are supported:
  ``silero_vad_16k_sequence.onnx`` (a block of frames per call: inputs ``input`` (frames, 64 + 512),
  ``h``/``c`` LSTM state (1, 1, 128); output ``speech_probs``) and the streaming ``silero_vad.onnx``
  (one frame per call: ``input`` (1, 64 + 512), ``state`` (2, 1, 128), ``sr``; output ``output`` (1, 1)).
  In both, every 512-sample frame is prefixed with the last 64 samples of the previous frame (the
  model's context), as silero_vad/utils_vad.py ``OnnxWrapper`` and sequence_vad.py ``frame_blocks`` do.
* ``energy``: used when onnxruntime or the model file is missing. Frame log-energy against an adaptive
  noise floor (10th percentile of frame levels); a frame is speech when it is 9 dB above the floor
  (mapped to a probability with a logistic of 2 dB width). Good enough for stationary noise above
  ~10 dB SNR; it cannot tell speech from loud non-stationary noise.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import resample

VAD_SR = 16000
FRAME = 512           # samples per frame at 16 kHz (32 ms)
CONTEXT = 64          # samples of the previous frame the model sees
FRAME_S = FRAME / VAD_SR


@dataclass(frozen=True)
class VadResult:
    """Frame-level speech probabilities at ``frame_s`` (0.032 s) hop; frame k covers [k*frame_s, (k+1)*frame_s)."""

    probs: np.ndarray
    backend: str
    frame_s: float = FRAME_S

    def mask(self, threshold: float = 0.5) -> np.ndarray:
        return self.probs >= threshold

    def segments(self, threshold: float = 0.5, min_speech_s: float = 0.1, min_silence_s: float = 0.2,
                 pad_s: float = 0.03) -> list[tuple[float, float]]:
        """Speech segments (start_s, end_s): frames >= threshold, gaps shorter than ``min_silence_s``
        bridged, segments shorter than ``min_speech_s`` dropped, each padded by ``pad_s``."""
        return mask_to_segments(self.mask(threshold), self.frame_s, min_speech_s, min_silence_s, pad_s)

    @property
    def duration_s(self) -> float:
        return len(self.probs) * self.frame_s


def mask_to_segments(mask: np.ndarray, frame_s: float, min_speech_s: float = 0.1, min_silence_s: float = 0.2,
                     pad_s: float = 0.0) -> list[tuple[float, float]]:
    runs = _runs(mask)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) * frame_s < min_silence_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    total = len(mask) * frame_s
    return [(max(0.0, a * frame_s - pad_s), min(total, b * frame_s + pad_s))
            for a, b in merged if (b - a) * frame_s >= min_speech_s]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs in a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[0::2].tolist(), d[1::2].tolist()))


def model_dir() -> Path | None:
    """The ``data/`` folder of the installed silero_vad wheel (found without importing the package)."""
    try:
        spec = importlib.util.find_spec("silero_vad")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(list(spec.submodule_search_locations)[0]) / "data"
    return d if d.is_dir() else None


@functools.lru_cache(maxsize=2)
def _session(name: str):
    """Load one ONNX export once per process (single-threaded, CPU): returns the session or None."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    d = model_dir()
    if d is None or not (d / name).is_file():
        return None
    opts = ort.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(d / name), sess_options=opts, providers=["CPUExecutionProvider"])


def _frames_with_context(x: np.ndarray) -> np.ndarray:
    """(n_frames, CONTEXT + FRAME): each zero-padded frame prefixed by the previous frame's tail."""
    n = max(1, -(-len(x) // FRAME))
    frames = np.zeros((n, FRAME), dtype=np.float32)
    frames.reshape(-1)[: len(x)] = x
    ctx = np.zeros((n, CONTEXT), dtype=np.float32)
    ctx[1:] = frames[:-1, -CONTEXT:]
    return np.concatenate([ctx, frames], axis=1)


def _silero_probs(x16: np.ndarray) -> np.ndarray | None:
    blocks = _frames_with_context(x16)
    seq = _session("silero_vad_16k_sequence.onnx")
    if seq is not None:
        h = np.zeros((1, 1, 128), np.float32)
        c = np.zeros((1, 1, 128), np.float32)
        out = []
        for i in range(0, len(blocks), 512):
            p, h, c = seq.run(["speech_probs", "hn", "cn"], {"input": blocks[i:i + 512], "h": h, "c": c})
            out.append(np.asarray(p).reshape(-1))
        return np.concatenate(out).astype(np.float32)
    stream = _session("silero_vad.onnx")
    if stream is None:
        return None
    state = np.zeros((2, 1, 128), np.float32)
    sr = np.array(VAD_SR, dtype=np.int64)
    probs = np.empty(len(blocks), np.float32)
    for k, b in enumerate(blocks):
        out, state = stream.run(None, {"input": b[None, :], "state": state, "sr": sr})
        probs[k] = float(np.asarray(out).reshape(-1)[0])
    return probs


def _energy_probs(x16: np.ndarray) -> np.ndarray:
    frames = _frames_with_context(x16)[:, CONTEXT:].astype(np.float64)
    lvl = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    floor = np.percentile(lvl, 10)
    return (1.0 / (1.0 + np.exp(-(lvl - floor - 9.0) / 2.0))).astype(np.float32)


def detect_speech(x: np.ndarray, sr: int, backend: str = "auto") -> VadResult:
    """Speech probability per 32 ms frame of mono ``x`` at ``sr`` Hz.

    ``backend``: ``auto`` (silero when available, else energy), ``silero`` (fails if missing) or ``energy``.
    """
    x16 = resample(np.asarray(x, dtype=np.float32), sr, VAD_SR)
    if backend in ("auto", "silero"):
        p = _silero_probs(x16)
        if p is not None:
            return VadResult(p[: max(1, -(-len(x16) // FRAME))], "silero")
        if backend == "silero":
            raise RuntimeError("silero-vad ONNX model or onnxruntime not available; "
                               "pip install onnxruntime silero-vad --no-deps, or use the energy VAD")
    return VadResult(_energy_probs(x16), "energy")


def silero_available() -> bool:
    return _session("silero_vad_16k_sequence.onnx") is not None or _session("silero_vad.onnx") is not None
