"""Packet loss: 20 ms voice packets lost in an IP network (Bernoulli or bursty Gilbert-Elliott), and what
the receiver plays in their place (G.711 Appendix I-style concealment, silence, or Opus's own PLC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..audio import Audio, resample
from ..dist import Const, dist_field
from ..errors import ConfigError
from . import codecs as C
from .base import Effect, Skipped, register
from .codec import BANDWIDTH_RATES

FRAME_S = 0.02
MODELS = ("bernoulli", "gilbert_elliott")
CONCEALMENTS = ("plc", "silence", "codec")


@dataclass(frozen=True)
class PacketLossParams:
    model: str
    loss_rate: float                # target (stationary) loss probability per frame
    mean_burst_frames: float        # target mean run of lost frames (1/(1-loss_rate) for bernoulli)
    concealment: str                # plc | silence | codec
    frame_s: float                  # packet duration (s)
    n_frames: int                   # frames in the item
    duration_s: float               # item duration the frames cover (s)
    lost_runs: tuple[tuple[int, int], ...] = ()   # (start_frame, n_frames) of each loss burst
    codec: str | None = None        # concealment=codec: the codec whose decoder conceals
    bitrate_bps: int | None = None
    sr_hz: int | None = None        # concealment=codec: the codec rate (the output rate)
    codec_delay_samples: int | None = None   # concealment=codec: measured codec delay removed, at sr_hz
    codec_preskip_samples: int | None = None  # concealment=codec: Opus pre-skip trimmed by the decoder, at sr_hz


@register("packet_loss")
@dataclass(frozen=True)
class PacketLoss(Effect):
    """Drop 20 ms frames of a call leg (drawn per item) and conceal them.

    ``model``: ``bernoulli`` (each frame lost with probability ``loss_rate``) or ``gilbert_elliott`` (a
    Good/Bad Markov chain, the simple Gilbert case that fits observed VoIP loss, profiles.md 2.3), set by the
    stationary ``loss_rate`` and ``mean_burst_frames``: P(Bad->Good) = 1 / mean_burst_frames, P(Good->Bad) =
    loss_rate / ((1 - loss_rate) * mean_burst_frames). ``concealment``: ``plc`` (:func:`conceal_plc`),
    ``silence`` (zeros: a receiver without concealment) or ``codec``: the effect then *is* the codec hop,
    encoding with ``codec`` (Opus, the only decoder here with its own PLC), dropping the lost packets and
    letting libopus conceal them; use it instead of, not after, a ``codec: opus`` effect. Lost frames are
    stored as runs ``[start_frame, n_frames]`` and reported by :meth:`lost_spans`, so segments whose words
    fall in them are flagged ``lost``."""

    model: Any = "gilbert_elliott"
    loss_rate: Any = 0.01
    mean_burst_frames: Any = 2.0
    concealment: Any = "plc"
    codec: Any = None
    bitrate_bps: Any = 16000
    bandwidth: Any = "narrowband"
    p: float = 1.0
    _delays: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    params_type = PacketLossParams

    def __post_init__(self):
        for key, allowed in (("model", MODELS), ("concealment", CONCEALMENTS), ("bandwidth", tuple(BANDWIDTH_RATES))):
            d = dist_field(f"packet_loss.{key}", getattr(self, key))
            vals = [d.value] if isinstance(d, Const) else list(getattr(d, "values", []))
            if not vals or any(v not in allowed for v in vals):
                raise ConfigError(f"packet_loss.{key}={d.to_config()!r}: allowed values are {', '.join(allowed)}")
            object.__setattr__(self, key, d)
        object.__setattr__(self, "loss_rate", dist_field("packet_loss.loss_rate", self.loss_rate, 0.0, 0.5))
        object.__setattr__(self, "mean_burst_frames",
                           dist_field("packet_loss.mean_burst_frames", self.mean_burst_frames, 1.0, 50.0))
        object.__setattr__(self, "bitrate_bps", dist_field("packet_loss.bitrate_bps", self.bitrate_bps, 1000, 512000))
        if self.codec is not None and not (isinstance(self.codec, str) and self.codec in C.CODECS):
            raise ConfigError(f"packet_loss.codec={self.codec!r}: must be a codec name ({', '.join(C.CODECS)}) or null")
        conceal = [self.concealment.value] if isinstance(self.concealment, Const) else list(self.concealment.values)
        if "codec" in conceal:
            spec = C.CODECS.get(self.codec) if isinstance(self.codec, str) else None
            if spec is None or not spec.has_plc:
                plc = [n for n, s in C.CODECS.items() if s.has_plc]
                raise ConfigError(f"packet_loss.codec={self.codec!r}: concealment=codec needs a codec whose decoder "
                                  f"conceals lost packets: {', '.join(plc)}")
            ok, detail = C.availability(spec)
            if not ok:
                raise ConfigError(f"packet_loss.codec={self.codec!r} is not available ({detail}); "
                                  f"to get it: {spec.how_to_get}")
            if isinstance(self.bitrate_bps, Const) and not spec.bitrate_ok(self.bitrate_bps.value):
                raise ConfigError(f"packet_loss.bitrate_bps={self.bitrate_bps.value} is not a {spec.name} bitrate; "
                                  f"allowed: {spec.allowed_bitrates()}")

    # ------------------------------------------------------------------------------------- sampling
    def sample_params(self, rng, ctx) -> PacketLossParams:
        model = self.model.sample(rng)
        rate = float(self.loss_rate.sample(rng))
        burst = float(self.mean_burst_frames.sample(rng))
        conceal = self.concealment.sample(rng)
        n = int(np.ceil(round(ctx.duration_s / FRAME_S, 6)))
        if model == "bernoulli":
            lost = rng.random(n) < rate
            runs = _runs(lost)
            burst = 1.0 / (1.0 - rate)
        else:
            runs = gilbert_elliott_runs(rng, n, rate, burst)
        extra: dict = {}
        if conceal == "codec":
            spec = C.CODECS[self.codec]
            bitrate = int(round(float(self.bitrate_bps.sample(rng)) / 100.0) * 100)
            if not spec.bitrate_ok(bitrate):
                raise ConfigError(f"packet_loss.bitrate_bps={bitrate} is not a {spec.name} bitrate; "
                                  f"allowed: {spec.allowed_bitrates()}")
            sr = BANDWIDTH_RATES[self.bandwidth.sample(rng)]
            delay, preskip = self._codec_timing(spec, sr, bitrate)
            extra = dict(codec=spec.name, bitrate_bps=bitrate, sr_hz=sr, codec_delay_samples=delay,
                         codec_preskip_samples=preskip)
        return PacketLossParams(model=model, loss_rate=rate, mean_burst_frames=burst, concealment=conceal,
                                frame_s=FRAME_S, n_frames=n, duration_s=float(ctx.duration_s),
                                lost_runs=tuple(runs), **extra)

    def _codec_timing(self, spec: C.CodecSpec, sr: int, bitrate: int) -> tuple[int, int]:
        """(measured delay, pre-skip) in samples at ``sr`` (memoised). The decoder drops the Opus
        pre-skip (OpusHead bytes 10-11, at 48 kHz), so decoded sample j comes from packet
        floor((j + delay + preskip) / frame)."""
        key = (spec.name, sr, bitrate)
        if key not in self._delays:
            delay = C.measure_delay(spec, sr, bitrate)
            _, extradata, _ = C.encode_packets(spec, np.zeros(int(FRAME_S * sr), np.int16), sr, bitrate)
            preskip = int.from_bytes(extradata[10:12], "little") * sr // 48000 if extradata else 0
            self._delays[key] = (delay, preskip)
        return self._delays[key]

    # ------------------------------------------------------------------------------------ rendering
    def apply_params(self, audio: Audio, params: PacketLossParams, ctx=None) -> Audio:
        if params.concealment == "codec":
            return self._apply_codec(audio, params)
        x = audio.samples.astype(np.float64)
        frame = int(round(params.frame_s * audio.sr))
        spans = [(s * frame, min((s + k) * frame, len(x))) for s, k in params.lost_runs if s * frame < len(x)]
        if params.concealment == "silence":
            y = x.copy()
            for a, b in spans:
                y[a:b] = 0.0
        else:
            y = conceal_plc(x, audio.sr, spans)
        return audio.with_samples(y.astype(np.float32))

    def _apply_codec(self, audio: Audio, params: PacketLossParams) -> Audio:
        spec = C.CODECS[params.codec]
        sr = params.sr_hz
        n = int(round(len(audio.samples) * sr / audio.sr))
        x = C.fit_length(resample(audio.samples, audio.sr, sr), n)
        frame = int(round(params.frame_s * sr))
        off = params.codec_delay_samples + params.codec_preskip_samples
        pad = (-off) % frame                      # leading zeros so packets line up with item frames
        shift = (off + pad) // frame              # item frame f is carried by packet f + shift
        pcm = np.concatenate([np.zeros(pad, np.int16), C.to_pcm16(x)])
        packets, extradata, fs = C.encode_packets(spec, pcm, sr, params.bitrate_bps)
        if fs != frame:
            raise RuntimeError(f"{spec.name} packet is {fs} samples, expected {frame}")
        lost = {s + i + shift for s, k in params.lost_runs for i in range(k)}
        packets = [None if i in lost else p for i, p in enumerate(packets)]
        y = C.decode_packets(spec, packets, sr, params.bitrate_bps, extradata)
        y = C.fit_length(y[pad + params.codec_delay_samples:], n)
        return Audio(C.from_pcm16(y), sr)

    # ------------------------------------------------------------------------------------ reporting
    def summary(self, params) -> dict:
        if isinstance(params, Skipped):
            return {}
        out = {"loss_model": params.model, "loss_rate_target": params.loss_rate,
               "mean_burst_frames_target": params.mean_burst_frames, "concealment": params.concealment}
        if params.codec:  # this effect is also a codec hop (it encodes and decodes)
            out |= {"codec": params.codec, "bitrate_bps": params.bitrate_bps}
        return out

    def realized(self, before: Audio, after: Audio, params) -> dict:
        """``loss_rate_realized``: lost frames / frames; ``mean_burst_frames_realized``: mean run of lost
        frames (0 if none); ``lost_frames``, ``loss_bursts``: counts."""
        if not isinstance(params, PacketLossParams):
            return {}
        return realized_stats(params.lost_runs, params.n_frames)

    def lost_spans(self, params) -> list[tuple[float, float]]:
        if not isinstance(params, PacketLossParams):
            return []
        return [(s * params.frame_s, min((s + k) * params.frame_s, params.duration_s)) for s, k in params.lost_runs
                if s * params.frame_s < params.duration_s]


# ---------------------------------------------------------------------------------------- loss models

def _runs(lost: np.ndarray) -> list[tuple[int, int]]:
    """Boolean per-frame loss -> [(start, length)] runs of True."""
    d = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(int(s), int(e - s)) for s, e in zip(starts, ends)]


def gilbert_elliott_runs(rng: np.random.Generator, n: int, loss_rate: float, mean_burst: float) -> list[tuple[int, int]]:
    """Loss runs of the two-state Gilbert model over ``n`` frames, started in its stationary state.
    Sojourns are geometric: Bad with mean ``mean_burst``, Good with mean mean_burst*(1-rate)/rate."""
    if loss_rate <= 0 or n <= 0:
        return []
    r = 1.0 / mean_burst
    p = loss_rate * r / (1.0 - loss_rate)
    if p > 1.0:
        raise ConfigError(f"packet_loss: loss_rate={loss_rate:.3g} with mean_burst_frames={mean_burst:.3g} is "
                          "impossible (a Good run would be shorter than one frame); lower the rate or raise the burst")
    runs: list[tuple[int, int]] = []
    t = 0
    bad = rng.uniform() < loss_rate
    while t < n:
        length = int(rng.geometric(r if bad else p))
        if bad:
            runs.append((t, min(length, n - t)))
        t += length
        bad = not bad
    return runs


def realized_stats(lost_runs, n_frames: int) -> dict:
    lengths = [k for _, k in lost_runs]
    return {"loss_rate_realized": float(sum(lengths) / n_frames) if n_frames else 0.0,
            "mean_burst_frames_realized": float(np.mean(lengths)) if lengths else 0.0,
            "lost_frames": int(sum(lengths)), "loss_bursts": len(lengths)}


# ---------------------------------------------------------------------------------- G.711 App. I PLC

def conceal_plc(x: np.ndarray, sr: int, spans: list[tuple[int, int]]) -> np.ndarray:
    """Conceal the sample spans ``[a, b)`` of ``x`` by pitch-synchronous waveform repetition with
    fade-out (G.711 Appendix I style, in numpy for any rate). Returns a new float64 array.

    The pitch period is found by normalised cross-correlation over the last 48.75 ms (periods 5-15 ms); the
    last 1, then 2, then 3 periods are repeated (switching after 10 and 20 ms), overlap-added with the
    signal around the gap over 1/4 period (+1 ms per extra 10 ms of loss at the end, at most 10 ms), and
    attenuated by 20 % per 10 ms after the first 10 ms, so the output is silent from 60 ms on. Unlike
    Appendix I (which delays its output 3.75 ms to cross-fade), this runs offline and cross-fades into the
    last 1/4 period before the gap: no added delay."""
    y = np.asarray(x, dtype=np.float64).copy()
    for a, b in spans:
        _conceal_one(y, sr, a, b)
    return y


def _pitch_period(hist: np.ndarray, t_min: int, t_max: int, win: int) -> int:
    """Lag in [t_min, t_max] maximising the normalised correlation of the last ``win`` samples of
    ``hist`` with the samples one lag earlier."""
    seg = hist[-win:]
    cands = sliding_window_view(hist[-(win + t_max):len(hist) - t_min], win)[::-1]  # row i: lag t_min + i
    num = cands @ seg
    den = np.sqrt(np.einsum("ij,ij->i", cands, cands)) + 1e-12
    return int(t_min + np.argmax(num / den))


def _conceal_one(y: np.ndarray, sr: int, a: int, b: int) -> None:
    n = len(y)
    ms = sr / 1000.0
    t_min, t_max, win = int(round(5 * ms)), int(round(15 * ms)), int(round(20 * ms))
    hist_len = int(round(48.75 * ms))
    gap = b - a
    ten = int(round(10 * ms))
    if a < max(hist_len, 3 * t_max):         # no history to repeat (loss at the start): silence + fade-in
        syn = np.zeros(gap + ten)
        t_period = t_min
    else:
        hist = y[a - hist_len:a]
        t_period = _pitch_period(hist, t_min, t_max, win)
        q = max(1, t_period // 4)
        # Cross-fade the last q real samples into the signal one period earlier (the synthetic past).
        w = 1.0 - (np.arange(q) + 0.5) / q
        y[a - q:a] = w * y[a - q:a] + (1 - w) * y[a - t_period - q:a - t_period]
        hist = y[a - 3 * t_period:a]
        j = np.arange(gap + ten)
        streams = [hist[-k * t_period:][j % (k * t_period)] for k in (1, 2, 3)]
        syn = streams[0].copy()
        for k, start in ((1, ten), (2, 2 * ten)):  # switch to 2, then 3 periods, with a q-sample cross-fade
            if start < len(syn):
                m = min(q, len(syn) - start)
                fade = (np.arange(m) + 0.5) / m
                syn[start:start + m] = (1 - fade) * syn[start:start + m] + fade * streams[k][start:start + m]
                syn[start + m:] = streams[k][start + m:]
        # 20 % attenuation per 10 ms after the first 10 ms: silent from 60 ms on.
        t_ms = j / ms
        syn *= np.clip(1.0 - 0.2 * (t_ms - 10.0) / 10.0, 0.0, 1.0)
    y[a:b] = syn[:gap]
    if b < n:  # overlap-add into the first good samples: 1/4 period + 1 ms per extra 10 ms, max 10 ms
        q_end = max(1, t_period // 4) + int(round(ms)) * max(0, -(-gap // ten) - 1)
        q_end = min(q_end, ten, n - b)
        fade = (np.arange(q_end) + 0.5) / q_end
        y[b:b + q_end] = (1 - fade) * syn[gap:gap + q_end] + fade * y[b:b + q_end]
