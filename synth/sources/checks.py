"""What makes a source file unusable: the checks of its header and of its samples.

A header check needs only what the file's header says (it exists, is audio, is long enough, lasts what
its manifest row claims); a sample check needs the decoded audio (:func:`synth.sources.index.measure`):
it decodes to the length its header says, has finite samples, speech holds active speech (ITU-T P.56),
noise is not digital silence, an RIR has energy. Each problem is the same one-line :class:`BadInput`
whether it is found while indexing or the first time an item draws the file.
"""

from __future__ import annotations

import numpy as np

from ..audio import power_db
from ..errors import BadInput
from .index import Header
from .schema import duration_tolerance_s  # noqa: F401  (used with the checks)

MIN_NOISE_S = 0.1
MIN_SPEECH_S = 0.1          # shorter "speech" cannot hold a word: its transcript would be a false label
MIN_SPEECH_DBOV = -70.0     # P.56 active level below this: the file holds no speech
MIN_NOISE_DBOV = -100.0     # noise power below this (or peak < SILENT_PEAK) is digital silence
SILENT_PEAK = 1e-6


def digital_silence(data) -> str | None:
    """Why noise samples ``data`` ((T,) or (T, C)) cannot serve as noise, or None: digital silence (peak below
    ``SILENT_PEAK`` or mean power below ``MIN_NOISE_DBOV``). The noise pool refuses such files; ``synth fit``
    uses the same test so its noise bank never holds one."""
    data = np.asarray(data, dtype=np.float32)
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    power = power_db(data.mean(axis=1) if data.ndim == 2 else data)
    return describe_silence(peak, power)


def describe_silence(peak: float, power_dbov: float) -> str | None:
    if peak < SILENT_PEAK or power_dbov < MIN_NOISE_DBOV:
        return f"digital silence (peak {peak:.1e}, power {power_dbov:.0f} dBov)"
    return None


def header_problem(path, kind: str, h: Header) -> BadInput | None:
    """The problem a file's header shows (missing, not audio, empty, too short), or None."""
    if h.problem == "does not exist":
        return BadInput(path, "does not exist", "fix the path in the manifest or restore the file")
    if h.problem:
        return BadInput(path, h.problem)
    if h.frames <= 0:
        return BadInput(path, "contains no samples")
    if kind == "noise" and h.duration_s < MIN_NOISE_S:
        return BadInput(path, f"is {h.duration_s:.3f} s long; noise files must be at least {MIN_NOISE_S} s")
    if kind == "speech" and h.duration_s < MIN_SPEECH_S:
        return BadInput(path, f"is {h.duration_s:.3f} s long; speech files must be at least {MIN_SPEECH_S} s "
                        "to hold a transcript")
    return None


def sample_problem(path, kind: str, header_s: float, m: dict) -> BadInput | None:
    """The problem a file's decoded samples show (``m`` from :func:`synth.sources.index.measure`; its header
    said it lasts ``header_s``), or None."""
    if "error" in m:
        return BadInput(path, m["error"])
    if m["frames"] == 0:
        return BadInput(path, "contains no samples")
    decoded_s = m["frames"] / m["sr"]
    if abs(decoded_s - header_s) > duration_tolerance_s(header_s):
        return BadInput(path, f"decodes to {decoded_s:.3f} s but its header says {header_s:.3f} s: the file is "
                        "truncated or damaged", "restore the file, or set on_bad_input=skip")
    if not m["finite"]:
        return BadInput(path, "contains NaN or infinite samples")
    silent = describe_silence(m["peak"], m["power_db"]) if kind == "noise" else None
    if silent:
        return BadInput(path, f"is {silent}: items would be labeled with an SNR they do not have",
                        "remove it from the noise sources or set on_bad_input=skip")
    if kind == "rir" and m["ch0_peak"] < SILENT_PEAK:
        return BadInput(path, "is an impulse response with no energy (all zeros)")
    if kind == "speech":
        if m["peak"] < SILENT_PEAK:
            return BadInput(path, "is silent (all zeros)")
        level = m["level_dbov"]
        if level is None or not level >= MIN_SPEECH_DBOV or m["activity"] <= 0:
            shown = "-inf" if level is None else f"{level:.0f}"
            return BadInput(path, f"holds no active speech (P.56 active level {shown} dBov, below "
                            f"{MIN_SPEECH_DBOV:.0f}): its transcript would label silence")
    return None
