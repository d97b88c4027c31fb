"""Codec: one pass through a real speech/audio codec (encode + decode), as on one hop of a call path;
a transcoding chain (customer AMR-NB -> PSTN G.711 -> recorder MP3) is several ``codec`` effects in one leg.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio import Audio, resample
from ..dist import Choice, Const, Dist, Uniform, LogUniform, Histogram, dist_field
from ..errors import ConfigError
from . import codecs as C
from .base import Effect, Skipped, register

BANDWIDTH_RATES = {"narrowband": 8000, "wideband": 16000}


@dataclass(frozen=True)
class CodecParams:
    codec: str              # synth codec name (see ``synth codecs``)
    bitrate_bps: int        # coded bitrate (the mode for AMR-NB/G.726)
    mode: str               # mode name: "MR122" for AMR-NB, "32k" for G.726 32 kbit/s, ...
    bandwidth: str          # "narrowband" (8 kHz) or "wideband" (16 kHz) or "<rate>Hz" for MP3/AAC
    sr_hz: int              # rate the codec runs at; the output rate
    backend: str            # "pyav:libopencore_amrnb", "soundfile:GSM610", ...
    library_version: str    # e.g. "PyAV 18.1.0 / FFmpeg 8.1.2"
    delay_samples: int      # measured codec delay removed from the output, at sr_hz
    delay_s: float
    lame_quality: int | None = None  # MP3: LAME -q the encoder ran at (None: LAME's default, 3)


def _values(d: Dist) -> list | None:
    """The finite set of values a distribution can produce, or None if continuous."""
    if isinstance(d, Const):
        return [d.value]
    if isinstance(d, Choice):
        return list(d.values)
    return None


def _lame_quality(raw, names: list) -> Dist:
    """``lame_quality`` as a distribution over LAME -q levels 0..9; mp3 must be one of ``names``."""
    q = dist_field("codec.lame_quality", raw, 0, 9)
    qs = _values(q)
    if qs is None or not all(isinstance(v, int) and not isinstance(v, bool) for v in qs):
        raise ConfigError(f"codec.lame_quality={q.to_config()!r}: must be an integer 0..9 or "
                          "{choice: [...]} of them (LAME -q: 0 careful .. 9 cheap)")
    if "mp3" not in names:
        raise ConfigError(f"codec.lame_quality: applies to mp3 only, and this effect's codecs are "
                          f"{', '.join(names)}; remove lame_quality or add mp3")
    return q


def _check_rates(n: str, br: Dist | None, srd: Dist | None) -> None:
    """Every bitrate ``br`` can draw is one codec ``n`` accepts (its modes, or inside its range), and so is
    every MP3/AAC ``sample_rate_hz``."""
    spec = C.CODECS[n]
    brs = _values(br) if br is not None else None
    if brs is not None:
        for b in brs:
            if b is not None and not spec.bitrate_ok(b):
                raise ConfigError(f"codec.bitrate_bps={b} is not a {n} bitrate; allowed: "
                                  f"{spec.allowed_bitrates()}")
    elif br is not None and spec.bitrates_bps:
        raise ConfigError(f"codec.bitrate_bps={br.to_config()!r}: {n} has discrete modes "
                          f"({spec.allowed_bitrates()}); use a value or {{choice: [...]}}")
    elif br is not None and isinstance(br, (Uniform, LogUniform, Histogram)):
        lo, hi = spec.bitrate_range_bps
        b_lo, b_hi = (br.lo, br.hi) if not isinstance(br, Histogram) else (br.edges[0], br.edges[-1])
        if b_lo < lo or b_hi > hi:
            raise ConfigError(f"codec.bitrate_bps={br.to_config()!r} is outside {n}'s range {lo}..{hi}")
    if srd is not None and n in ("mp3", "aac"):
        for r in _values(srd) or []:
            if r not in spec.rates_hz:
                raise ConfigError(f"codec.sample_rate_hz={r} is not a {n} rate; allowed: "
                                  f"{', '.join(map(str, spec.rates_hz))}")


@register("codec")
@dataclass(frozen=True)
class Codec(Effect):
    """Encode and decode with a real codec (``codec``: a name or a distribution over names).

    The signal is resampled (soxr, no time shift) to the codec's rate (8 kHz narrowband, 16 kHz G.722 and
    wideband Opus, ``sample_rate_hz`` for MP3/AAC) and stays at that rate (``Audio.sr`` changes). The codec's
    measured delay (:func:`synth.channel.codecs.measure_delay`; ``delay_samples``, ``delay_s`` in the params)
    is removed, so the output lines up with the input and has its duration. A codec this install cannot run
    is a :class:`ConfigError` when the effect is built, naming how to get it (``synth codecs`` lists them).

    ``bitrate_bps``: the bitrate/mode (None = the codec's default: AMR-NB 12200, G.726 32000,
    Opus 16000, MP3 16000, AAC 32000; fixed for G.711/G.722/GSM-FR), or a mapping per codec when
    ``codec`` is a choice: ``{amr_nb: {choice: [12200, 7950]}}`` (codecs not listed use their default). ``bandwidth`` (Opus only):
    narrowband (8 kHz) or wideband (16 kHz). ``sample_rate_hz`` (MP3/AAC only): the rate the
    recorder encodes at (MP3 default 8000, AAC 16000).

    ``lame_quality`` (MP3 only): how hard the encoder works, LAME's ``-q`` level (FFmpeg's
    ``compression_level`` for libmp3lame), an integer 0..9 or ``{choice: [...]}`` of them. Low values
    model a careful offline encoder (0: exhaustive quantisation and noise-shaping search, ~4x the encoder
    CPU of 3); high values a cheap real-time one, e.g. a call recorder or embedded device (7: fast
    search, ~0.55x the CPU of 3, the audiomentations default; 8 and 9 give 7's bytes in LAME 3.100).
    Same bitrate and delay, different coding noise. None (default) leaves LAME at its own default, 3:
    the same bytes as before this option existed.

    ``remove_added_dc``: subtract the DC offset the codec added (output mean minus input mean over the
    item). opencore-amr's AMR-NB decoder leaves about -3.5 LSB (-1e-4 of full scale) on any non-silent input
    (fixed-point truncation), which real network transcoders do not pass on: cell-phone calls through a
    vocoder read |DC| ~ 2e-6 (../shared/corpus/telephone). A fitted vocoder hop sets it; default off.
    """

    codec: Any = "g711_ulaw"
    bitrate_bps: Any = None
    bandwidth: Any = "narrowband"
    sample_rate_hz: Any = None
    lame_quality: Any = None
    remove_added_dc: bool = False
    p: float = 1.0
    _delays: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _per_codec: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    params_type = CodecParams

    def __post_init__(self):
        """Parse every field into a distribution and check, at build time, that each codec it can choose
        is available here and accepts every bitrate and rate the config can draw for it."""
        names = self._parse_codecs()
        per = self._parse_bitrates()
        bw = dist_field("codec.bandwidth", self.bandwidth)
        if _values(bw) is None or any(v not in BANDWIDTH_RATES for v in _values(bw)):
            raise ConfigError(f"codec.bandwidth={bw.to_config()!r}: allowed values are narrowband, wideband")
        object.__setattr__(self, "bandwidth", bw)
        srd = None if self.sample_rate_hz is None else dist_field("codec.sample_rate_hz", self.sample_rate_hz, 8000, 192000)
        object.__setattr__(self, "sample_rate_hz", srd)
        if self.lame_quality is not None:
            object.__setattr__(self, "lame_quality", _lame_quality(self.lame_quality, names))
        for k in per:
            if k not in names:
                raise ConfigError(f"codec.bitrate_bps.{k}: {k} is not one of this effect's codecs ({', '.join(names)})")
        for n in names:
            _check_rates(n, per.get(n, self.bitrate_bps), srd)

    def _parse_codecs(self) -> list:
        """``codec`` as a distribution; its names, each known and available in this install."""
        codec = dist_field("codec.codec", self.codec)
        object.__setattr__(self, "codec", codec)
        names = _values(codec)
        if names is None:
            raise ConfigError("codec.codec: must be a codec name or {choice: [...]} of names; "
                              f"known codecs: {', '.join(C.CODECS)}")
        for n in names:
            spec = C.CODECS.get(n)
            if spec is None:
                raise ConfigError(f"codec.codec={n!r}: unknown codec; known codecs: {', '.join(C.CODECS)}")
            ok, detail = C.availability(spec)
            if not ok:
                raise ConfigError(f"codec.codec={n!r} is not available in this install ({detail}); "
                                  f"to get it: {spec.how_to_get}")
        return names

    def _parse_bitrates(self) -> dict:
        """``bitrate_bps`` as one distribution, or (returned) one per codec:
        ``{amr_nb: {choice: [12200, 7950]}, mp3: 16000}``."""
        raw = self.bitrate_bps
        if hasattr(raw, "items") and not isinstance(raw, Dist) and set(dict(raw.items())) <= set(C.CODECS):
            per = {k: dist_field(f"codec.bitrate_bps.{k}", v, 1000, 512000) for k, v in dict(raw.items()).items()}
            br = None
        else:
            per = {}
            br = None if raw is None else dist_field("codec.bitrate_bps", raw, 1000, 512000)
        object.__setattr__(self, "bitrate_bps", br)
        object.__setattr__(self, "_per_codec", per)
        return per

    # ------------------------------------------------------------------------------------- sampling
    def sample_params(self, rng, ctx) -> CodecParams:
        name = self.codec.sample(rng)
        spec = C.CODECS[name]
        br = self._per_codec.get(name, self.bitrate_bps)
        bitrate = spec.default_bitrate_bps if br is None else br.sample(rng)
        if spec.bitrates_bps:
            bitrate = int(bitrate)
        else:
            bitrate = int(round(float(bitrate) / 100.0) * 100)  # continuous: 100 bit/s steps
        if not spec.bitrate_ok(bitrate):
            raise ConfigError(f"codec.bitrate_bps={bitrate} is not a {name} bitrate; allowed: {spec.allowed_bitrates()}")
        bandwidth = self.bandwidth.sample(rng)
        sr = self._rate(spec, bandwidth, rng)
        if name not in ("opus",):
            bandwidth = {8000: "narrowband", 16000: "wideband"}.get(sr, f"{sr}Hz")
        quality = int(self.lame_quality.sample(rng)) if name == "mp3" and self.lame_quality is not None else None
        delay = self.delay_samples(spec, sr, bitrate, quality)
        return CodecParams(codec=name, bitrate_bps=bitrate, mode=spec.mode(bitrate), bandwidth=bandwidth,
                           sr_hz=sr, backend=C.backend_label(spec), library_version=C.backend_version(spec),
                           delay_samples=delay, delay_s=delay / sr, lame_quality=quality)

    def _rate(self, spec: C.CodecSpec, bandwidth: str, rng) -> int:
        if spec.name == "opus":
            return BANDWIDTH_RATES[bandwidth]
        if spec.name in ("mp3", "aac"):
            return int(self.sample_rate_hz.sample(rng)) if self.sample_rate_hz is not None else \
                (8000 if spec.name == "mp3" else 16000)
        return spec.rates_hz[0]

    def delay_samples(self, spec: C.CodecSpec, sr: int, bitrate: int, quality: int | None = None) -> int:
        """Measured delay of this codec configuration (memoised on this effect instance)."""
        key = (spec.name, sr, bitrate, quality)
        if key not in self._delays:
            self._delays[key] = C.measure_delay(spec, sr, bitrate, quality)
        return self._delays[key]

    # ------------------------------------------------------------------------------------ rendering
    def apply_params(self, audio: Audio, params: CodecParams, ctx=None) -> Audio:
        spec = C.CODECS[params.codec]
        x = resample(audio.samples, audio.sr, params.sr_hz)
        n = int(round(len(audio.samples) * params.sr_hz / audio.sr))
        x = C.fit_length(x, n)
        y = C.roundtrip(spec, C.to_pcm16(x), params.sr_hz, params.bitrate_bps, params.lame_quality)
        y = C.from_pcm16(C.fit_length(y[params.delay_samples:], n))
        if self.remove_added_dc and n:
            y = (y - np.float32(np.mean(y, dtype=np.float64) - np.mean(x, dtype=np.float64))).astype(np.float32)
        return Audio(y, params.sr_hz)

    def summary(self, params) -> dict:
        if isinstance(params, Skipped):
            return {}
        return {"codec": params.codec, "bitrate_bps": params.bitrate_bps, "mode": params.mode,
                "bandwidth": params.bandwidth, "sr_hz": params.sr_hz, "backend": params.backend,
                "library_version": params.library_version, "delay_s": params.delay_s} | \
            ({} if params.lame_quality is None else {"lame_quality": params.lame_quality})


def _rates(rates: list[int]) -> str:
    return ",".join(map(str, rates)) if len(rates) <= 2 else f"{min(rates)}..{max(rates)}"


# -------------------------------------------------------------------------------------------- CLI

def main(argv: list[str]) -> int:
    """``synth codecs``: which codecs and modes this install supports, and through which backend."""
    ap = argparse.ArgumentParser(prog="synth codecs", description=main.__doc__)
    ap.add_argument("--json", action="store_true", help="print the probe as JSON lines to stdout")
    args = ap.parse_args(argv)
    rows = C.probe()
    if args.json:
        import json
        for r in rows:
            print(json.dumps(r))
        return 0
    head = ("codec", "available", "modes", "rates_hz", "backend", "version / how to get it")
    table = [(r["codec"], "yes" if r["available"] else "NO", r["modes"], _rates(r["rates_hz"]),
              r["backend"], r["version"] if r["available"] else f"{r['detail']}; {r['how_to_get']}")
             for r in rows]
    widths = [max(len(str(row[i])) for row in [head, *table]) for i in range(len(head) - 1)]
    for row in [head, *table]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)) + "  " + str(row[-1]))
    return 0
