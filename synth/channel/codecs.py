"""Speech and audio codecs as real encoder/decoder pairs run in-process (PyAV's FFmpeg, or libsndfile for
GSM 06.10 and bit-exact G.711), on 16-bit PCM as a telephone network does, single-threaded so the same
input gives the same bytes; each codec's delay is measured, not assumed (:func:`measure_delay`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.signal import correlate, lfilter

from ..audio import resample
from ..stops import signals_deferred

FFMPEG_HOWTO = "pip install 'av>=12' (PyAV wheels bundle FFmpeg with libopencore-amrnb, libopus and libmp3lame)"
SNDFILE_HOWTO = "pip install 'soundfile>=0.12' (its wheels bundle libsndfile with GSM 06.10 support)"


@dataclass(frozen=True)
class CodecSpec:
    """One codec: what it is, which backend runs it, at which rates and bitrates.

    Backends: ``pyav`` (libavcodec through PyAV, whose wheels bundle libopencore-amrnb, libopus and
    libmp3lame; raw codec contexts at the packet level, which lets packet loss drop single Opus packets so
    the decoder's own concealment runs) and ``soundfile`` (libsndfile into and out of a ``BytesIO``: GSM 06.10,
    which FFmpeg cannot encode without libgsm, and G.711, whose decision levels libsndfile follows exactly
    and FFmpeg does not at segment boundaries)."""

    name: str                              # synth's name, used in configs and manifests
    title: str                             # human name with the standard
    backend: str                           # "pyav" | "soundfile"
    encoder: str                           # FFmpeg encoder name, or libsndfile subtype
    decoder: str                           # FFmpeg decoder name, or libsndfile subtype
    rates_hz: tuple[int, ...]              # rates it runs at; the first is the default
    bitrates_bps: tuple[int, ...] = ()     # allowed discrete bitrates (modes); () = continuous range
    bitrate_range_bps: tuple[int, int] | None = None
    default_bitrate_bps: int = 64000
    sample_format: str = "s16"             # PCM format the encoder takes
    encoder_options: tuple[tuple[str, str], ...] = ()
    has_plc: bool = False                  # the decoder conceals lost packets itself
    how_to_get: str = FFMPEG_HOWTO
    mode_names: dict = field(default_factory=dict, compare=False)  # bitrate -> mode name (AMR)

    def bitrate_ok(self, bps: float) -> bool:
        if self.bitrates_bps:
            return int(bps) == bps and int(bps) in self.bitrates_bps
        lo, hi = self.bitrate_range_bps  # type: ignore[misc]
        return lo <= bps <= hi

    def allowed_bitrates(self) -> str:
        if self.bitrates_bps:
            return ", ".join(str(b) for b in self.bitrates_bps)
        lo, hi = self.bitrate_range_bps  # type: ignore[misc]
        return f"{lo}..{hi}"

    def mode(self, bps: int) -> str:
        return self.mode_names.get(int(bps), f"{int(bps) // 1000}k" if bps % 1000 == 0 else f"{bps}bps")


_SOURCE_HOWTO = ("not in the PyAV wheels' FFmpeg: install an FFmpeg built with {lib} and build PyAV against "
                 "it (pip install av --no-binary av)")
_AMR_MODES = {4750: "MR475", 5150: "MR515", 5900: "MR59", 6700: "MR67", 7400: "MR74", 7950: "MR795",
              10200: "MR102", 12200: "MR122"}
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_AAC_RATES = (16000, 8000, 11025, 12000, 22050, 24000, 32000, 44100, 48000)

CODECS: dict[str, CodecSpec] = {c.name: c for c in [
    # G.711 through libsndfile: its encoder applies the G.711 decision levels exactly (checked against a
    # table implementation over all 65536 inputs in tests/channel/test_codec.py). FFmpeg's pcm_mulaw /
    # pcm_alaw quantise to the *nearest reconstruction level* instead, which moves the decision level at
    # every segment boundary (e.g. mu-law input 124..127 stays in segment 0): close, but not G.711.
    CodecSpec("g711_ulaw", "ITU-T G.711 mu-law PCM", "soundfile", "ULAW", "ULAW", (8000,),
              (64000,), default_bitrate_bps=64000, how_to_get=SNDFILE_HOWTO),
    CodecSpec("g711_alaw", "ITU-T G.711 A-law PCM", "soundfile", "ALAW", "ALAW", (8000,),
              (64000,), default_bitrate_bps=64000, how_to_get=SNDFILE_HOWTO),
    CodecSpec("g722", "ITU-T G.722 sub-band ADPCM (wideband)", "pyav", "g722", "g722", (16000,),
              (64000,), default_bitrate_bps=64000),
    CodecSpec("g726", "ITU-T G.726 ADPCM", "pyav", "g726", "g726", (8000,),
              (16000, 24000, 32000, 40000), default_bitrate_bps=32000),
    CodecSpec("gsm_fr", "ETSI GSM 06.10 full rate (RPE-LTP)", "soundfile", "GSM610", "GSM610", (8000,),
              (13000,), default_bitrate_bps=13000, how_to_get=SNDFILE_HOWTO),
    CodecSpec("amr_nb", "3GPP AMR narrowband (opencore-amr)", "pyav", "libopencore_amrnb",
              "libopencore_amrnb", (8000,), tuple(_AMR_MODES), default_bitrate_bps=12200,
              mode_names=_AMR_MODES),
    CodecSpec("opus", "IETF Opus (libopus, VoIP application)", "pyav", "libopus", "libopus", (8000, 16000),
              bitrate_range_bps=(6000, 64000), default_bitrate_bps=16000,
              encoder_options=(("application", "voip"), ("frame_duration", "20")), has_plc=True),
    CodecSpec("mp3", "MPEG-1/2/2.5 Layer III (LAME)", "pyav", "libmp3lame", "mp3float", _MP3_RATES,
              bitrate_range_bps=(8000, 320000), default_bitrate_bps=16000, sample_format="s16p"),
    CodecSpec("aac", "MPEG-4 AAC-LC (FFmpeg native)", "pyav", "aac", "aac", _AAC_RATES,
              bitrate_range_bps=(8000, 256000), default_bitrate_bps=32000, sample_format="fltp"),
    # Listed so `synth codecs` says how to get them; the pip wheels of PyAV ship decoders only.
    CodecSpec("amr_wb", "3GPP AMR wideband (G.722.2)", "pyav", "libvo_amrwbenc", "amrwb", (16000,),
              (6600, 8850, 12650, 14250, 15850, 18250, 19850, 23050, 23850), default_bitrate_bps=12650,
              how_to_get=_SOURCE_HOWTO.format(lib="libvo-amrwbenc")),
    CodecSpec("ilbc", "IETF iLBC", "pyav", "libilbc", "libilbc", (8000,), (13330, 15200),
              default_bitrate_bps=15200, how_to_get=_SOURCE_HOWTO.format(lib="libilbc")),
    CodecSpec("speex", "Speex (narrowband)", "pyav", "libspeex", "libspeex", (8000,),
              bitrate_range_bps=(2150, 24600), default_bitrate_bps=8000,
              how_to_get=_SOURCE_HOWTO.format(lib="libspeex")),
]}


# ---------------------------------------------------------------------------------------------- probe

def availability(spec: CodecSpec) -> tuple[bool, str]:
    """(available, detail): whether this install can encode and decode ``spec``."""
    if spec.backend == "soundfile":
        try:
            import soundfile as sf
        except ImportError as e:
            return False, f"soundfile not importable ({e})"
        if spec.encoder not in sf.available_subtypes("WAV"):
            return False, f"libsndfile {sf.__libsndfile_version__} has no {spec.encoder} support"
        return True, ""
    try:
        import av
    except ImportError as e:
        return False, f"PyAV not importable ({e})"
    for name, mode in ((spec.encoder, "w"), (spec.decoder, "r")):
        try:
            av.codec.Codec(name, mode)
        except Exception:
            return False, f"this FFmpeg build has no {name} {'encoder' if mode == 'w' else 'decoder'}"
    return True, ""


def backend_version(spec: CodecSpec) -> str:
    """Library and version that runs ``spec``, recorded with every item."""
    if spec.backend == "soundfile":
        import soundfile as sf
        return f"soundfile {sf.__version__} / libsndfile {sf.__libsndfile_version__}"
    import av
    return f"PyAV {av.__version__} / FFmpeg {av.ffmpeg_version_info}"


def backend_label(spec: CodecSpec) -> str:
    return f"{spec.backend}:{spec.encoder}" + (f"/{spec.decoder}" if spec.decoder != spec.encoder else "")


# ------------------------------------------------------------------------------------------ PCM helpers

def to_pcm16(x: np.ndarray) -> np.ndarray:
    """float [-1, 1) -> int16, rounded to nearest and saturated (what a 16-bit ADC/DAC path does)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def from_pcm16(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x, dtype=np.float32) / np.float32(32768.0)).astype(np.float32)


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad to exactly ``n`` samples (effects keep the input's duration)."""
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - len(x), dtype=x.dtype)])


# --------------------------------------------------------------------------------------------- codecs

def encode_packets(spec: CodecSpec, pcm: np.ndarray, sr: int, bitrate_bps: int,
                   quality: int | None = None) -> tuple[list[bytes], bytes | None, int]:
    """Encode int16 ``pcm`` at ``sr`` with a PyAV encoder: (packets, extradata, samples per packet).
    ``quality``: the encoder's speed/quality level, FFmpeg's ``compression_level`` (MP3: LAME -q, 0
    careful and slow .. 9 cheap and fast); None leaves the encoder's own default (LAME: 3)."""
    import av
    enc = av.CodecContext.create(spec.encoder, "w")
    enc.sample_rate = sr
    enc.layout = "mono"
    enc.format = spec.sample_format
    enc.bit_rate = int(bitrate_bps)
    enc.time_base = Fraction(1, sr)
    enc.thread_count = 1
    enc.options = dict(spec.encoder_options) | ({} if quality is None else {"compression_level": str(int(quality))})
    enc.open()
    fs = enc.frame_size or 160
    n = len(pcm)
    padded = np.zeros(-(-max(n, 1) // fs) * fs, dtype=np.int16)
    padded[:n] = pcm
    data = padded.astype(np.float32) / np.float32(32768.0) if spec.sample_format in ("flt", "fltp") else padded
    # One frame for the whole signal, cut into encoder frames by FFmpeg's FIFO (no per-frame numpy work).
    whole = av.AudioFrame.from_ndarray(data[None, :], format=spec.sample_format, layout="mono")
    whole.sample_rate = sr
    whole.pts = 0
    whole.time_base = enc.time_base
    fifo = av.AudioFifo()
    fifo.write(whole)
    packets = [bytes(p) for fr in fifo.read_many(fs) for p in enc.encode(fr)]
    packets.extend(bytes(p) for p in enc.encode(None))
    return packets, enc.extradata, fs


def decode_packets(spec: CodecSpec, packets: list[bytes | None], sr: int, bitrate_bps: int,
                   extradata: bytes | None) -> np.ndarray:
    """Decode packets with a PyAV decoder; ``None`` marks a lost packet (only for codecs with PLC:
    an Opus packet reduced to its TOC byte is a zero-length frame, which libopus conceals, RFC 6716
    section 3.2.1)."""
    import av
    dec = av.CodecContext.create(spec.decoder, "r")
    dec.sample_rate = sr
    dec.layout = "mono"
    dec.thread_count = 1
    if spec.name == "g726":
        dec.options = {"bits_per_coded_sample": str(int(bitrate_bps) // 8000)}
    if extradata:
        dec.extradata = extradata
    dec.open()
    frames = []
    last_good: bytes | None = None
    for p in packets:
        if p is None:
            if not spec.has_plc:
                raise ValueError(f"{spec.name}: decoder has no packet loss concealment")
            p = bytes([(last_good[0] if last_good else 0x08) & 0xFC])
        else:
            last_good = p
        frames.extend(dec.decode(av.Packet(p)))
    frames.extend(dec.decode(None))
    y = _frames_pcm(frames)
    rates = {fr.sample_rate for fr in frames}
    dec_sr = rates.pop() if len(rates) == 1 else sr
    if dec_sr != sr:  # libopus always decodes at 48 kHz; bring it back to the codec rate (soxr, no delay)
        y = to_pcm16(resample(from_pcm16(y), dec_sr, sr))
    return y


def _frames_pcm(frames: list) -> np.ndarray:
    """The first channel of decoded frames as one int16 array (float decoders rounded once, at the end)."""
    if not frames:
        return np.zeros(0, dtype=np.int16)
    parts = [fr.to_ndarray() for fr in frames]
    planar = frames[0].format.is_planar
    a = np.concatenate([p[0] if p.ndim == 2 and planar else p.reshape(-1) for p in parts])
    return a if a.dtype == np.int16 else to_pcm16(a)


def roundtrip(spec: CodecSpec, pcm: np.ndarray, sr: int, bitrate_bps: int, quality: int | None = None) -> np.ndarray:
    """Encode and decode int16 ``pcm``; the raw decoder output (codec delay not removed). ``quality``:
    see :func:`encode_packets`."""
    if spec.backend == "soundfile":
        import soundfile as sf
        buf = io.BytesIO()
        with signals_deferred():  # libsndfile calls back into Python for an in-memory file
            sf.write(buf, np.asarray(pcm, dtype=np.int16), sr, format="WAV", subtype=spec.encoder)
            buf.seek(0)
            y, _ = sf.read(buf, dtype="int16")
        return np.asarray(y, dtype=np.int16)
    packets, extra, _ = encode_packets(spec, pcm, sr, bitrate_bps, quality)
    return decode_packets(spec, packets, sr, bitrate_bps, extra)


def g711_encode(pcm: np.ndarray, law: str) -> bytes:
    """The G.711 bytes the ``g711_ulaw``/``g711_alaw`` codecs produce for int16 ``pcm`` (``law``: "ulaw"
    or "alaw"); the tests check them against an independent table implementation."""
    import soundfile as sf
    buf = io.BytesIO()
    with signals_deferred():
        sf.write(buf, np.asarray(pcm, dtype=np.int16), 8000, format="RAW", subtype=law.upper())
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- delay

def calibration_signal(sr: int, duration_s: float = 2.0) -> np.ndarray:
    """A fixed, speech-like test signal (float): a glottal pulse train with gliding pitch through
    formant resonators that change every 120 ms, with a 4 Hz syllable envelope and short noise
    bursts (fricatives). Deterministic (its own seeded generator), used only to measure codec delay."""
    rng = np.random.default_rng(20240611)
    n = int(duration_s * sr)
    t = np.arange(n) / sr
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t) + 20 * np.sin(2 * np.pi * 2.3 * t)
    phase = np.cumsum(f0 / sr)
    src = np.diff(np.floor(phase), prepend=0.0)           # one impulse per pitch period
    src = lfilter([1.0], [1.0, -0.95], src)                # glottal roll-off
    out = np.zeros(n)
    seg = int(0.12 * sr)
    formants = [(700, 1200, 2500), (300, 2300, 3000), (500, 900, 2400), (400, 1800, 2600)]
    for k, start in enumerate(range(0, n, seg)):
        s = src[start:start + seg + 200]
        y = s
        for f in formants[k % len(formants)]:
            if f < sr / 2 - 200:
                r = np.exp(-np.pi * 100 / sr)
                y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], y)
        out[start:start + len(y)] += y[:n - start]
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    out = out * env
    noise = rng.standard_normal(n) * (np.sin(2 * np.pi * 1.3 * t) > 0.8)
    out = out / (np.max(np.abs(out)) + 1e-12) * 0.5 + 0.05 * noise
    return (out / np.max(np.abs(out)) * 0.5).astype(np.float32)


def xcorr_lag(ref: np.ndarray, y: np.ndarray, max_lag: int, min_lag: int | None = None) -> int:
    """Lag (samples) by which ``y`` trails ``ref``: the peak of their cross-correlation within
    [min_lag, max_lag] (min_lag defaults to -max_lag)."""
    min_lag = -max_lag if min_lag is None else min_lag
    ref = np.asarray(ref, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    c = correlate(y, ref, mode="full", method="fft")      # index len(ref)-1 is lag 0
    zero = len(ref) - 1
    lo, hi = max(zero + min_lag, 0), min(zero + max_lag, len(c) - 1)
    return int(np.argmax(c[lo:hi + 1]) + lo - zero)


def measure_delay(spec: CodecSpec, sr: int, bitrate_bps: int, quality: int | None = None) -> int:
    """Delay in samples (at ``sr``) of the decoded output relative to the input (encoder look-ahead,
    priming samples, filter-bank delay), measured by cross-correlation on :func:`calibration_signal`. Up to
    300 ms is searched. The codec effect removes that many samples from the front of the decoded output
    (checked against real speech within 1 ms in the tests)."""
    ref = to_pcm16(calibration_signal(sr))
    y = roundtrip(spec, ref, sr, bitrate_bps, quality)
    return max(0, xcorr_lag(ref, y, max_lag=int(0.3 * sr), min_lag=-int(0.01 * sr)))


def probe() -> list[dict]:
    """What this install supports: one row per codec (name, modes, rates, backend, available, how to get)."""
    rows = []
    for spec in CODECS.values():
        ok, detail = availability(spec)
        rows.append({
            "codec": spec.name,
            "title": spec.title,
            "modes": spec.allowed_bitrates() + " bit/s",
            "rates_hz": list(spec.rates_hz),
            "backend": backend_label(spec),
            "version": backend_version(spec) if ok else "",
            "available": ok,
            "detail": detail,
            "how_to_get": spec.how_to_get,
        })
    return rows
