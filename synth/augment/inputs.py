"""Audio arrays as libraries hand them to the Augmenter (numpy or torch, (T,), (C, T) or (T, C), float or int
PCM): layouts, sample formats and rates checked up front, anything else refused in one line (:func:`check_samples`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import BadInput

MAX_CHANNELS = 32           # a microphone array at most; every channel runs the whole chain
MIN_RATE, MAX_RATE = 8000, 192000
PCM_SCALE = {np.dtype(np.int16): 2.0 ** -15, np.dtype(np.int32): 2.0 ** -31}
FLOATS = (np.float16, np.float32, np.float64)
PASS = "pass a (T,) or (C, T) float32 numpy array"


@dataclass(frozen=True)
class Layout:
    """How the caller's array maps to the ``(T,)`` / ``(C, T)`` float32 the chain works on."""

    transposed: bool = False   # the caller passed (T, C)

    def restore(self, y: np.ndarray) -> np.ndarray:
        """The result in the caller's layout."""
        return np.ascontiguousarray(y.T) if self.transposed else y


def is_tensor(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "device") and hasattr(x, "dim")


def to_numpy(x, name: str) -> np.ndarray:
    """A numpy view of an array-like: ndarrays, CPU torch tensors, anything with ``__array__``."""
    if isinstance(x, np.ndarray):
        return x
    if is_tensor(x):
        if x.device.type == "meta":
            raise BadInput(name, "is a torch tensor on device 'meta', which holds no samples",
                           "pass a tensor with data on the CPU, or a numpy array")
        if x.device.type != "cpu":
            raise BadInput(name, f"is a torch tensor on {x.device}; the Augmenter works on CPU arrays",
                           "pass x.cpu(), or use AugmentTransform (it returns tensors on their device)")
        x = x.detach()
        half = x.dtype.is_floating_point and x.dtype.itemsize == 2  # bfloat16 has no numpy twin
        return (x.float() if half else x).numpy()
    if isinstance(x, (list, tuple)):
        raise BadInput(name, f"is a {type(x).__name__}", "pass a numpy array: np.asarray(x, dtype=np.float32)")
    if not hasattr(x, "__array__") or isinstance(x, (str, bytes)):
        raise BadInput(name, "is None" if x is None else f"is a {type(x).__name__}", PASS)
    return np.asarray(x)


def as_float(x: np.ndarray, name: str) -> np.ndarray:
    """float32 samples: floats cast, int16/int32 PCM scaled to [-1, 1) as soundfile does; others refused."""
    if x.dtype in PCM_SCALE:
        return (x.astype(np.float64) * PCM_SCALE[x.dtype]).astype(np.float32)
    if x.dtype.type in FLOATS:
        return np.asarray(x, dtype=np.float32)
    raise BadInput(name, f"has dtype {x.dtype}", "pass float32/float64 samples in [-1, 1] or int16/int32 PCM")


def layout(shape: tuple, name: str) -> Layout:
    """The layout rule of :func:`check_samples`, or a one-line refusal naming the fix."""
    if len(shape) == 1:
        return Layout()
    if len(shape) != 2:
        raise BadInput(name, f"has shape {shape} ({len(shape)} dimensions)",
                       f"{PASS}; call once per utterance, or use AugmentTransform for (B, T) / (B, C, T) batches")
    rows, cols = shape
    if rows <= cols and rows <= MAX_CHANNELS:
        return Layout()
    if cols <= MAX_CHANNELS < rows:
        return Layout(transposed=True)
    if rows <= MAX_CHANNELS:  # both axes short, more rows than columns: channels or samples?
        raise BadInput(name, f"has shape {shape}: {rows} channels of {cols} samples, or {cols} channels of {rows}",
                       "pass (C, T) with at least as many samples as channels (x.T for soundfile's (T, C))")
    raise BadInput(name, f"has shape {shape}: no axis of at most {MAX_CHANNELS} channels",
                   f"pass (T,) or (C, T) with C <= {MAX_CHANNELS}; x.T for soundfile's (T, C); one utterance per call")


def check_samples(samples, name: str = "Augmenter input") -> tuple[np.ndarray, Layout]:
    """``(x, layout)``: float32 ``(T,)`` or ``(C, T)`` with finite values and at least one sample, and how to
    give a result back in the caller's layout; or a one-line :class:`BadInput`.

    Accepted: a numpy array (or a CPU torch tensor) of float32/float64/float16 samples in [-1, 1], or int16/int32
    PCM (scaled by 2**-15 / 2**-31, as soundfile reads it), shaped

    * ``(T,)``: one channel;
    * ``(C, T)`` with ``1 <= C <= MAX_CHANNELS`` and ``C <= T`` (the documented layout; torch and librosa's);
    * ``(T, C)`` with ``C <= MAX_CHANNELS < T`` (soundfile's layout): transposed in, and the result is
      returned ``(T, C)`` again.

    Anything else (3-D arrays, a 2-D shape with no axis of at most ``MAX_CHANNELS``, or one whose layout is
    ambiguous because both axes are that short but rows outnumber columns, lists, strings, other dtypes, NaN/inf,
    empty input, tensors on another device) is refused with one line that says what to pass. The channel cap
    keeps a misread layout from running the chain once per row. Rates are whole numbers of Hz from 8 kHz to
    192 kHz, the range a build accepts.
    """
    x = to_numpy(samples, name)
    if x.size == 0:
        raise BadInput(name, f"has shape {x.shape} (no samples)", f"{PASS} with at least one sample")
    lay = layout(x.shape, name)
    x = as_float(x, name)
    if lay.transposed:
        x = np.ascontiguousarray(x.T)
    if not np.isfinite(x).all():
        raise BadInput(name, "contains NaN or infinite values",
                       "pass finite samples (drop the utterance, or clean it first)")
    return x, lay


def check_rate(sample_rate, name: str = "Augmenter sample_rate") -> int:
    """A rate in Hz: a whole number from 8000 to 192000 (``16000.0`` is 16000), or a one-line error."""
    ok = isinstance(sample_rate, numbers.Real) and not isinstance(sample_rate, (bool, np.bool_))
    if ok and isinstance(sample_rate, numbers.Integral):
        rate = int(sample_rate)
    elif ok and float(sample_rate).is_integer():
        rate = int(sample_rate)
    else:
        raise BadInput(name, f"is {sample_rate!r}", "pass the rate in Hz as an int from 8000 to 192000, e.g. 16000")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise BadInput(name, f"is {rate} Hz", f"pass a rate from {MIN_RATE} to {MAX_RATE} Hz (resample first)")
    return rate


def check_epoch(epoch, name: str = "Augmenter epoch") -> int:
    if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, numbers.Integral) or int(epoch) < 0:
        raise BadInput(name, f"is {epoch!r}", "pass the training epoch as an int >= 0")
    return int(epoch)
