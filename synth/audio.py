"""Audio I/O and levels: loading any libsndfile format, resampling, P.56 active speech level, atomic writes.

Conventions used across synth:

* samples are float32 in [-1, 1]; 0 dBov is the power of a full-scale square wave (power 1.0),
  so a full-scale sine measures -3.01 dBov;
* mono signals are 1-D arrays; multi-channel outputs are shaped (channels, samples).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf
import soxr
from scipy.ndimage import maximum_filter1d
from scipy.signal import lfilter

from .errors import BadInput
from .stops import signals_deferred

EPS = 1e-12


@dataclass(frozen=True)
class Audio:
    """A mono signal: float32 ``samples`` at ``sr`` Hz. ``meter``: its P.56 measurement when the step that
    made it already knows it (a talker scaled to its level, then a gain), else None; :meth:`with_samples`
    drops it."""

    samples: np.ndarray
    sr: int
    meter: "LevelMeter | None" = None

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sr

    def with_samples(self, samples: np.ndarray, sr: int | None = None) -> "Audio":
        return Audio(np.ascontiguousarray(samples, dtype=np.float32), self.sr if sr is None else sr)

    def measured(self) -> "LevelMeter":
        """Its P.56 meter: the one it carries, else a new measurement."""
        return self.meter or LevelMeter.of(self.samples, self.sr)

    def level(self) -> "ActiveSpeechLevel":
        """Its P.56 active speech level (see :func:`active_speech_level`)."""
        return self.measured().level()

    def scaled(self, gain: float) -> "Audio":
        """The signal times ``gain`` (> 0); a gain keeps what P.56 knows of it (the meter, scaled)."""
        return Audio(np.ascontiguousarray(self.samples * gain, dtype=np.float32), self.sr,
                     self.meter.scaled(gain) if self.meter else None)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample with soxr HQ. soxr's filters are linear phase and it compensates their delay itself,
    so no time shift is introduced (checked in tests/test_audio.py)."""
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    return soxr.resample(np.asarray(x, dtype=np.float32), sr_in, sr_out, quality="HQ").astype(np.float32)


def load(path: str | Path, sr: int, channel: int | None = None, min_duration_s: float = 0.0) -> np.ndarray:
    """Read any format libsndfile reads, downmix to mono (or take ``channel``), resample to ``sr``.

    Raises :class:`BadInput` (naming the file) for unreadable, empty, too short, or non-finite audio.
    """
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile's messages are already specific ("Format not recognised", ...)
        raise BadInput(path, f"cannot be read as audio ({str(e).splitlines()[0]})") from None
    if data.size == 0:
        raise BadInput(path, "contains no samples")
    if not np.isfinite(data).all():
        raise BadInput(path, "contains NaN or infinite samples")
    if channel is not None:
        x = data[:, min(channel, data.shape[1] - 1)]
    else:
        x = data.mean(axis=1)
    if len(x) / file_sr < min_duration_s:
        raise BadInput(path, f"is {len(x) / file_sr:.3f} s long, shorter than the {min_duration_s} s minimum")
    return resample(x, file_sr, sr)


def power_db(x: np.ndarray) -> float:
    """Mean power in dB re full scale (dBov)."""
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + EPS))


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


@dataclass(frozen=True)
class ActiveSpeechLevel:
    """Result of a P.56 measurement: active level (dBov) and the fraction of time speech was active."""

    level_dbov: float
    activity: float


def active_speech_level(x: np.ndarray, sr: int) -> ActiveSpeechLevel:
    """ITU-T P.56 method B active speech level (as in the G.191 STL ``actlev``/``sv56``).

    Envelope: two cascaded one-pole smoothers of |x| with time constant 0.03 s; a sample is active at
    threshold c if the envelope exceeded c within the last 0.2 s (hangover); thresholds are spaced
    2x (6 dB) apart; the active level is where the level measured over active samples sits 15.9 dB
    above the threshold, interpolated between thresholds. Silent input gives -inf.
    """
    return LevelMeter.of(x, sr).level()


@dataclass(frozen=True)
class LevelMeter:
    """What P.56 (see :func:`active_speech_level`) measures of a signal ``x``, kept so the level of ``x``
    scaled by a gain is known without measuring again: the envelope of ``gain * x`` is ``gain`` times that
    of ``x`` (the smoothers are linear, the hangover is a running max), so at threshold ``c`` it is active
    where ``x``'s envelope exceeds ``c / gain``, and its energy is ``gain**2`` times ``x``'s.

    ``envelope``: the hangover envelope every ``n / len(envelope)``-th sample, sorted; ``energy``: sum of
    x**2; ``n``: samples; ``gain``: the scale of the signal this meter describes relative to ``x``.
    """

    envelope: np.ndarray
    energy: float
    n: int
    gain: float = 1.0

    @classmethod
    def of(cls, x: np.ndarray, sr: int) -> "LevelMeter":
        x = np.asarray(x)
        x = x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)
        n = len(x)
        u = np.abs(x, dtype=np.float64)
        energy = float(np.einsum("i,i->", u, u))
        if n == 0 or energy <= 0:
            return cls(np.zeros(0), 0.0, n)
        g = np.exp(-1.0 / (sr * 0.03))
        # the envelope is smoothed with a 30 ms time constant, so the threshold tests can run on every
        # `dec`-th sample (>= 2 kHz) without changing the result beyond ~0.01 dB; each kept sample stands for `dec`.
        dec = max(1, sr // 2000)
        qd = _smoothed_every(u, g, dec)
        hang = max(1, int(round(0.2 * sr / dec)))
        # "exceeded within the last 0.2 s" (hangover): a causal running max over the envelope.
        qmax = np.sort(maximum_filter1d(qd, size=hang, origin=(hang - 1) // 2, mode="nearest"))
        return cls(qmax, energy, n)

    def scaled(self, gain: float) -> "LevelMeter":
        """The meter of this signal multiplied by ``gain`` (> 0)."""
        return LevelMeter(self.envelope, self.energy, self.n, self.gain * gain)

    def level(self) -> ActiveSpeechLevel:
        """The P.56 active level (dBov) and activity of the signal this meter describes."""
        n, qmax = self.n, self.envelope
        if self.energy <= 0:
            return ActiveSpeechLevel(float("-inf"), 0.0)
        energy = self.energy * self.gain ** 2
        thresholds = 2.0 ** np.arange(-16, 1)  # amplitude thresholds, 1/65536 .. 1
        counts = (len(qmax) - np.searchsorted(qmax, thresholds / self.gain, side="left")) * (n / len(qmax))
        margin_db = 15.9
        diffs, levels, acts = [], [], []
        for c, a in zip(thresholds, counts):
            if a <= 0:
                break
            lvl = 10 * np.log10(energy / a)
            levels.append(lvl)
            acts.append(a)
            diffs.append(lvl - 20 * np.log10(c))
        if not diffs:
            return ActiveSpeechLevel(10 * np.log10(energy / n + EPS), 1.0)
        for j in range(1, len(diffs)):
            if diffs[j] <= margin_db:  # crossing between j-1 (above margin) and j
                d0, d1 = diffs[j - 1], diffs[j]
                t = 0.0 if d0 == d1 else (d0 - margin_db) / (d0 - d1)
                level = levels[j - 1] + t * (levels[j] - levels[j - 1])
                act = acts[j - 1] + t * (acts[j] - acts[j - 1])
                return ActiveSpeechLevel(float(level), float(act / n))
        if diffs[0] <= margin_db:  # even the lowest threshold is within the margin: everything is active
            return ActiveSpeechLevel(float(levels[0]), acts[0] / n)
        return ActiveSpeechLevel(float(levels[-1]), acts[-1] / n)


def _smoothed_every(u: np.ndarray, g: float, dec: int) -> np.ndarray:
    """Samples 0, dec, 2*dec, ... of ``u`` through two cascaded one-pole smoothers (pole ``g``, unit DC gain),
    computed a block of ``dec`` samples at a time: the smoothers' state (p, q) advances over a block by the
    matrix power A^dec plus the block's inputs weighted by A^(dec-j) B. The same values as running the
    smoothers on every sample, at ~1/dec of the recursive work."""
    b_vec = np.array([1 - g, (1 - g) ** 2])
    # A = [[g, 0], [(1-g) g, g]] = g I + N with N^2 = 0, so A^k b = g^k b + k g^k (1-g) b0 [0, 1]
    k = np.arange(dec - 1, -1, -1, dtype=np.float64)                    # A^(dec-j) for j = 1..dec
    w = np.stack([g ** k * b_vec[0], g ** k * (b_vec[1] + k * (1 - g) * b_vec[0])])  # (2, dec)
    m = (len(u) - 1) // dec                       # whole blocks after sample 0
    e = np.empty((2, m + 1))
    e[:, 0] = b_vec * u[0]
    e[:, 1:] = np.einsum("bj,kj->kb", u[1: 1 + m * dec].reshape(m, dec), w)  # einsum: no BLAS threads
    ad = g ** dec                                 # A^dec = [[ad, 0], [c, ad]]
    c = dec * (1 - g) * g ** dec
    # q_b = ad q_{b-1} + c p_{b-1} + e1_b with p_b = ad p_{b-1} + e0_b, i.e.
    # Q(z) = (E1(z) (1 - ad z^-1) + c z^-1 E0(z)) / (1 - ad z^-1)^2: one second-order recursion
    v = e[1].copy()
    v[1:] += c * e[0, :-1] - ad * e[1, :-1]
    return lfilter([1.0], [1.0, -2 * ad, ad * ad], v)


def encode_audio(samples: np.ndarray, sr: int, fmt: str = "flac", tags: dict | None = None) -> bytes:
    """Encode 16-bit FLAC or WAV in memory.

    ``samples`` is mono (T,) or (C, T). ``tags`` go into the file's own metadata (libsndfile string
    fields: title, comment, software, ...); synth uses them to mark every file as synthetic.
    Bytes depend only on the samples and tags, so the same render gives the same file.
    """
    data = np.asarray(samples, dtype=np.float32)
    data = data.T if data.ndim == 2 else data
    buf = io.BytesIO()
    with signals_deferred(), sf.SoundFile(buf, "w", samplerate=sr, channels=1 if data.ndim == 1 else data.shape[1],
                                          format=fmt.upper(), subtype="PCM_16") as f:
        for key, value in (tags or {}).items():
            setattr(f, key, str(value))
        f.write(np.clip(data, -1.0, 1.0))
    return buf.getvalue()


def write_audio(path: Path, samples: np.ndarray, sr: int, fmt: str = "flac", tags: dict | None = None) -> str:
    """Write :func:`encode_audio`'s bytes atomically (temp file in the same folder, then rename).
    Returns the file's SHA-256."""
    data = encode_audio(samples, sr, fmt, tags)
    atomic_write_bytes(Path(path), data)
    return hashlib.sha256(data).hexdigest()


@contextmanager
def atomic_open(path: Path, mode: str = "w"):
    """Open ``path`` for writing so that readers see either the old file or the whole new one: writes go
    to a temp file in the same folder, renamed over ``path`` when the block exits without an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; sets are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def text_lines(path: str | Path, errors: str = "strict") -> Iterator[str]:
    """The lines of a UTF-8 text file (a JSONL manifest, a transcript list, an RTTM), read one at a time
    and split at line ends only (``\\n``, ``\\r\\n``, ``\\r``). ``str.splitlines()`` also splits at U+0085,
    U+2028, U+2029 and ``\\x1c``-``\\x1e``, which a transcript may contain (text that went through cp1252
    holds U+0085) and JSON keeps unescaped, so one manifest line would read as two broken ones. A leading
    byte-order mark (Windows editors write one) is dropped rather than read as part of the first line.
    A file that is not UTF-8 (saved as Latin-1 or cp1252) is a :class:`BadInput` naming ``file:line``."""
    try:
        with open(path, encoding="utf-8-sig", errors=errors) as f:
            for line in f:
                yield line.rstrip("\n")
    except UnicodeDecodeError:
        n, byte = undecodable_line(path)
        raise BadInput(f"{path}:{n}", f"is not UTF-8 text (byte 0x{byte:02x} cannot be decoded)",
                       "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 old > new)") from None


def undecodable_line(path: str | Path) -> tuple[int, int]:
    """(line number, byte value) of a file's first byte that is not UTF-8, counting lines as
    :func:`text_lines` does (a lone ``\\r`` ends a line too). Reads one line at a time."""
    n = 1
    with open(path, "rb") as f:
        for raw in f:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                return n + raw[:e.start].replace(b"\r\n", b"\n").count(b"\r"), raw[e.start]
            n += 1 + raw.replace(b"\r\n", b"\n").count(b"\r")
    return n, 0
