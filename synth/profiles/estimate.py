"""Blind per-recording estimators: what channel conditions does a real recording show?

``estimate_recording(x, sr)`` returns a flat dict of scalars (units in the key names). Every quantity is
defined so that it can be compared with, or turned into, the corresponding build setting of synth:

speech_level_dbov   active speech level (ITU-T P.56 method B, dBov) of the *speech component* (NaN when the
                    speech frames are no louder than the noise frames): at
                    high SNR the P.56 level of the recording itself (synth.audio.active_speech_level);
                    when noise biases P.56 (SNR below 20 dB) the noise power is subtracted from the
                    mean power of the VAD speech frames and a P.56/VAD activity offset measured on the
                    same recording is added (see ``_speech_level``).
p56_level_dbov      plain P.56 level of the whole recording (speech + noise), for reference.
noise_level_dbov    mean power of the non-speech frames (VAD, 64 ms away from speech), dBov.
snr_db              speech_level_dbov - noise_level_dbov: the definition synth's add_noise effect
                    uses (P.56 active speech level vs mean noise power).
wada_snr_db         WADA-SNR (Kim & Stern, Interspeech 2008) of the whole recording, converted from its
                    whole-signal definition to the active-speech one by adding -10 log10(activity).
snr_disagreement_db |snr_db - wada_snr_db|; large values flag non-stationary noise or VAD trouble.
noise_sd_db         SD over non-speech 32 ms frames of the frame level in dB (time variation of noise).
noise_tilt_db_per_oct  slope of the noise's octave-band levels vs log2(frequency), 125 Hz .. 4 kHz.
noise_band_<f>_db   noise octave-band levels relative to the noise's total level (dB).
effective_bandwidth_hz  highest frequency where the long-term spectrum of speech frames is within 45 dB
                    of the passband (90th percentile of 200-4000 Hz); bandwidth_class from it:
                    narrowband <= 4.6 kHz < wideband <= 8.6 kHz < fullband.
lowpass_sharpness_db  level drop across the band edge (200 Hz either side); >= 20 dB means a brick-wall
                    filter (codec or resampler), small means the spectrum just fades out.
sample_rate         the file's own rate; upsampled = effective bandwidth well below its Nyquist.
codec_guess         a coarse family, or "cannot tell" (see ``guess_codec``): the last hop.
codec_chain         (fit only) the vocoder family before the last hop: g711_only / amr_nb / gsm_fr / opus_nb /
                    unknown, with its probabilities and evidence (see synth.profiles.codec_chain).
clipped_fraction    fraction of samples in saturation (see ``clipping``).
dc_offset           mean sample value (full scale = 1).
rt60_s              blind reverberation time from the decay rates of speech offsets (see ``blind_rt60``);
                    held-out error on simulated rooms 0.17-1.24 s: median 0.07 s.
speech_activity     fraction of frames the VAD marks as speech.
speech_s, noise_s   seconds of VAD speech frames and of noise frames (0 when the noise floor came from
                    the quietest frames because no frame is far enough from speech).

Measured accuracy (``python tests/profiles/groundtruth.py 120 --rt60``: 120 items from real corpus
speech + the 5 real corpus noises, SNR 0-30 dB, level -40..-15 dBov, half narrowband, 24 hard-clipped):
SNR median |error| 0.98 dB (90th percentile 4.0 dB; the large errors are the meowing-cat noise, whose
meows the VAD counts as speech); WADA-SNR median |error| 4.9 dB (a cross-check, not the estimate);
speech level median |error| 0.44 dB (p90 0.87 dB); bandwidth class 120/120; clipped fraction max
relative error 0.6 %, no false positives. RT60 on held-out speech in shoebox rooms (T30 0.17-1.24 s,
45 dB SNR): median |error| 0.053 s, max 0.20 s; at 20 dB SNR 0.07 s (20 % NaN); at 10 dB SNR almost
always NaN (decays cannot be followed far enough above the noise). On the corpus's measured RIRs the
error is larger (church T20 1.22 s reads 0.45-0.75 s; a seminar-room clap RIR 0.64 s reads ~1.0 s).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt, stft

from ..audio import active_speech_level, resample
from .vad import VAD_SR, VadResult, _runs, detect_speech

EPS = 1e-12

# --------------------------------------------------------------------------------------------------
# WADA-SNR. Table: E[log|z|]-based statistic G(SNR) = log E|z| - E log|z| for Gamma(alpha=0.4)
# distributed speech in Gaussian noise, SNR -20..100 dB in 1 dB steps. Values from Kim & Stern's C++
# implementation as embedded in Dan Ellis's wada_snr.m (LabROSA snreval, 2010, "precomputed table of
# integral from paper (from Chanwoo's C++ implementation)"), the table used by the common Python ports
# (e.g. John Meade's MIT-licensed gist, 2020). Lookup with linear interpolation, as in wada_snr.m.
_WADA_G = np.array([
    0.40974774, 0.40986926, 0.40998566, 0.40969089, 0.40986186, 0.40999006, 0.41027138, 0.41052627,
    0.41101024, 0.41143264, 0.41231718, 0.41337272, 0.41526426, 0.41781920, 0.42077252, 0.42452799,
    0.42918886, 0.43510373, 0.44234195, 0.45161485, 0.46221153, 0.47491647, 0.48883809, 0.50509236,
    0.52353709, 0.54372088, 0.56532427, 0.58847532, 0.61346212, 0.63954496, 0.66750818, 0.69583724,
    0.72454762, 0.75414799, 0.78323148, 0.81240985, 0.84219775, 0.87166406, 0.90030504, 0.92880418,
    0.95655449, 0.98353490, 1.01047155, 1.03620950, 1.06136425, 1.08579312, 1.10948190, 1.13277995,
    1.15472826, 1.17627308, 1.19703503, 1.21671694, 1.23535898, 1.25364313, 1.27103891, 1.28718029,
    1.30302865, 1.31839527, 1.33294817, 1.34700935, 1.36057270, 1.37345513, 1.38577122, 1.39733504,
    1.40856397, 1.41959619, 1.42983624, 1.43958467, 1.44902176, 1.45804831, 1.46669568, 1.47486938,
    1.48269965, 1.49034339, 1.49748214, 1.50435106, 1.51076426, 1.51698915, 1.52290970, 1.52857800,
    1.53389835, 1.53912110, 1.54390650, 1.54858517, 1.55310776, 1.55744391, 1.56164927, 1.56566348,
    1.56938671, 1.57307767, 1.57654764, 1.57980083, 1.58304129, 1.58602496, 1.58880681, 1.59162477,
    1.59419690, 1.59693155, 1.59944600, 1.60185011, 1.60408668, 1.60627134, 1.60826199, 1.61004547,
    1.61192472, 1.61369656, 1.61534074, 1.61688905, 1.61838916, 1.61985374, 1.62135878, 1.62268119,
    1.62390423, 1.62513143, 1.62632463, 1.62740270, 1.62842767, 1.62945532, 1.63033070, 1.63128026,
    1.63204102])
_WADA_DB = np.arange(-20.0, 101.0)


def wada_snr(x: np.ndarray) -> float:
    """WADA-SNR in dB (Kim & Stern 2008): whole-signal speech power over noise power.

    The statistic log(mean|x|) - mean(log|x|) of the amplitude distribution is looked up in the
    Gamma(0.4)-speech-plus-Gaussian-noise table. Exact zeros are excluded (digital silence would
    otherwise read as the table's 100 dB ceiling). NaN for an all-zero signal.
    """
    a = np.abs(np.asarray(x, dtype=np.float64))
    a = a[a > 0]
    if a.size < 100:
        return float("nan")
    a = a / a.max()
    g = np.log(a.mean()) - np.mean(np.log(a))
    below = np.flatnonzero(_WADA_G < g)
    if below.size == 0:
        return float(_WADA_DB[0])
    i = int(below[-1])
    if i == len(_WADA_G) - 1:
        return float(_WADA_DB[-1])
    return float(_WADA_DB[i] + (g - _WADA_G[i]) / (_WADA_G[i + 1] - _WADA_G[i]) * (_WADA_DB[i + 1] - _WADA_DB[i]))


# --------------------------------------------------------------------------------------------------
# Framing shared with the VAD: frame k covers [k, k+1) * 32 ms, at any sample rate.

def frame_powers(x: np.ndarray, sr: int, n_frames: int, frame_s: float) -> np.ndarray:
    """Mean power of each VAD frame of ``x`` (frames past the end of ``x`` get NaN)."""
    x = np.asarray(x, dtype=np.float64)
    bounds = np.round(np.arange(n_frames + 1) * frame_s * sr).astype(int)
    bounds = np.minimum(bounds, len(x))
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    n = np.diff(bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum[bounds[1:]] - csum[bounds[:-1]]) / np.maximum(n, 1), np.nan)


def _erode(mask: np.ndarray, k: int) -> np.ndarray:
    """Keep a True frame only if every frame within ``k`` of it is True (distance from the other class)."""
    if k <= 0:
        return mask.copy()
    m = np.concatenate([np.zeros(k, bool), mask, np.zeros(k, bool)])
    out = np.ones(len(mask), bool)
    for s in range(2 * k + 1):
        out &= m[s:s + len(mask)]
    return out


def speech_noise_masks(v: VadResult, speech_threshold: float = 0.5, noise_threshold: float = 0.3,
                       margin_s: float = 0.064) -> tuple[np.ndarray, np.ndarray]:
    """Speech frames (prob >= 0.5) and noise frames (prob < 0.3 and >= ``margin_s`` from any speech frame)."""
    speech = v.probs >= speech_threshold
    maybe = v.probs >= noise_threshold
    k = int(round(margin_s / v.frame_s))
    noise = _erode(~maybe, k)
    return speech, noise


# --------------------------------------------------------------------------------------------------
# Level and SNR

def _speech_level(x16: np.ndarray, speech: np.ndarray, noise: np.ndarray, pw: np.ndarray,
                  p_noise: float) -> tuple[float, float, dict]:
    """Active speech level of the speech component (dBov) and P.56 level of the mixture.

    P.56 on the recording is exact without noise but counts noise as speech at low SNR. NaN when the VAD's
    speech frames are on average no louder than its noise frames (loud bursts between the words): the speech
    component cannot be separated from the noise. The VAD
    estimate (mean speech-frame power minus mean noise power) is robust to noise but measures over
    VAD frames rather than P.56's active samples; the offset between the two is taken from the
    recording itself where it is clean enough to trust P.56 (estimated SNR >= 20 dB), otherwise
    from the typical offset on clean speech (+0.3 dB, measured on the corpus, see tests/profiles).
    """
    p56 = active_speech_level(x16, VAD_SR)
    p_sf = float(np.nanmean(pw[speech])) if speech.any() else float("nan")
    p_clean = p_sf - p_noise if np.isfinite(p_noise) else p_sf
    if np.isfinite(p_clean) and p_clean <= 0:  # speech frames no louder than the noise: no level to measure
        return float("nan"), float(p56.level_dbov), {"vad_speech_power_dbov": float("nan")}
    vad_level = 10 * np.log10(max(p_clean, EPS)) if np.isfinite(p_clean) else float("nan")
    info = {"vad_speech_power_dbov": vad_level}
    if not np.isfinite(vad_level):
        return p56.level_dbov, p56.level_dbov, info
    snr_guess = vad_level - 10 * np.log10(max(p_noise, EPS)) if np.isfinite(p_noise) else 99.0
    if snr_guess >= 20.0:
        level = p56.level_dbov
    else:
        level = vad_level + VAD_TO_P56_DB
    return float(level), float(p56.level_dbov), info


VAD_TO_P56_DB = 0.3   # median (P.56 level - mean power of silero speech frames) on clean corpus speech


# --------------------------------------------------------------------------------------------------
# Spectrum: bandwidth, codec family, noise shape

def long_term_spectrum(x: np.ndarray, sr: int, frame_mask: np.ndarray | None, frame_s: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(freqs_hz, level_db) averaged over the STFT frames whose centre lies in a True VAD frame."""
    nper = int(2 ** np.ceil(np.log2(0.064 * sr)))
    f, t, z = stft(np.asarray(x, dtype=np.float64), sr, nperseg=nper, noverlap=nper // 2, boundary=None,
                   padded=False)
    p = np.abs(z) ** 2
    if frame_mask is not None and p.shape[1] > 0:
        k = np.minimum((t / frame_s).astype(int), len(frame_mask) - 1)
        sel = frame_mask[k]
        if sel.sum() >= 4:
            p = p[:, sel]
    return f, 10 * np.log10(np.mean(p, axis=1) + 1e-20) if p.shape[1] else np.full(len(f), -200.0)


def bandwidth(f: np.ndarray, level_db: np.ndarray, sr: int, within_db: float = 45.0) -> dict:
    """Effective bandwidth (Hz) of a long-term speech spectrum, its class and the sharpness of its edge."""
    pb = (f >= 200) & (f <= min(4000, sr / 2))
    ref = float(np.percentile(level_db[pb], 90)) if pb.any() else float(level_db.max())
    idx = np.flatnonzero(level_db >= ref - within_db)
    edge = float(f[idx.max()]) if idx.size else 0.0
    lo = (f >= edge - 400) & (f < edge - 150)
    hi = (f > edge + 150) & (f <= edge + 400)
    sharp = float(np.median(level_db[lo]) - np.median(level_db[hi])) if lo.any() and hi.any() else 0.0
    cls = "narrowband" if edge <= 4600 else "wideband" if edge <= 8600 else "fullband"
    return {"effective_bandwidth_hz": edge, "bandwidth_class": cls, "lowpass_sharpness_db": sharp,
            "upsampled": bool(edge < 0.8 * sr / 2 and sharp >= 20.0)}


def _mu_law_grid() -> np.ndarray:
    """The 256 PCM16 values a G.711 mu-law decoder can output (G.711 Table 2a, bias 0x84)."""
    vals = []
    for code in range(256):
        u = ~code & 0xFF
        t = ((u & 0x0F) << 3) + 0x84
        t <<= (u & 0x70) >> 4
        vals.append((0x84 - t) if (u & 0x80) else (t - 0x84))
    return np.unique(np.array(vals))


def _a_law_grid() -> np.ndarray:
    vals = []
    for code in range(256):
        a = code ^ 0x55
        t = (a & 0x0F) << 4
        seg = (a & 0x70) >> 4
        t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
        vals.append(t if (a & 0x80) else -t)
    return np.unique(np.array(vals))


def g711_grid(raw_pcm16: np.ndarray | None) -> str | None:
    """'mu-law' / 'A-law' when every sample sits on that companding grid (decoded G.711 kept as PCM16)."""
    if raw_pcm16 is None or raw_pcm16.size < 1000:
        return None
    vals = np.unique(raw_pcm16)
    if vals.size > 256:
        return None
    for name, grid in (("mu-law", _mu_law_grid()), ("A-law", _a_law_grid())):
        if np.isin(vals, grid).all():
            return name
    return None


def guess_codec(bw: dict, sr: int, low_band_db: float, g711: str | None) -> str:
    """A coarse codec family from the spectrum, or 'cannot tell'. Never more specific than the evidence:
    a band edge says which *class* of channel the audio went through, not which codec."""
    edge, sharp, cls = bw["effective_bandwidth_hz"], bw["lowpass_sharpness_db"], bw["bandwidth_class"]
    if g711:
        return f"G.711 {g711} (samples on the companding grid)"
    if cls == "narrowband":
        tel = " with telephone high-pass (little energy below 200 Hz)" if low_band_db < -20 else ""
        return f"narrowband telephony (G.711/G.729/AMR-NB/GSM class){tel}"
    if sharp >= 20.0 and 6300 <= edge <= 7300:
        return "wideband 7 kHz band limit (G.722/AMR-WB class, or low-rate MP3)"
    if sharp >= 20.0 and edge < 0.9 * sr / 2:
        return f"MP3/AAC-like low-pass at {edge / 1000:.1f} kHz"
    return "cannot tell"


OCTAVES_HZ = (125, 250, 500, 1000, 2000, 4000)


def noise_shape(f: np.ndarray, level_db: np.ndarray) -> dict:
    """Octave-band levels of the noise relative to its total level, and their slope in dB/octave."""
    p = 10 ** (level_db / 10)
    total = p.sum()
    out, xs, ys = {}, [], []
    for fc in OCTAVES_HZ:
        sel = (f >= fc / np.sqrt(2)) & (f < fc * np.sqrt(2))
        if not sel.any() or fc * np.sqrt(2) > f[-1] + 1:
            continue
        lv = 10 * np.log10(p[sel].sum() / total + 1e-20)
        out[f"noise_band_{fc}hz_db"] = float(lv)
        xs.append(np.log2(fc))
        ys.append(lv)
    out["noise_tilt_db_per_oct"] = float(np.polyfit(xs, ys, 1)[0]) if len(xs) >= 3 else float("nan")
    return out


# --------------------------------------------------------------------------------------------------
# Clipping, DC

def clipping(x: np.ndarray, min_run: int = 3, min_events: int = 2) -> dict:
    """Fraction of samples in saturation.

    For each polarity, samples within 2 LSB (16-bit) of that polarity's extreme value are candidates.
    Saturation is declared when at least ``min_events`` flat runs of >= ``min_run`` consecutive
    candidates exist (an unclipped waveform touches its peak in isolated samples, a clipper holds it);
    then every candidate sample counts. Detects hard clipping at any threshold, not only full scale;
    soft (tanh) clipping and clipping followed by a resampler or codec are not detected.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    tol = 2.0 / 32768
    clipped = 0
    level = 0.0
    for s in (x, -x):
        peak = s.max()
        if peak <= 0.01:
            continue
        cand = s >= peak - tol
        runs = [b - a for a, b in _runs(cand)]
        if sum(r >= min_run for r in runs) >= min_events:
            clipped += int(cand.sum())
            level = max(level, float(peak))
    return {"clipped_fraction": clipped / n if n else 0.0, "clip_level": level}


# --------------------------------------------------------------------------------------------------
# Reverberation

# rt60 = a * raw + b: least squares on pyroomacoustics shoebox rooms (T30 of the RIR 0.17-1.24 s) with
# 5 of the 10 corpus utterances in tests/profiles/groundtruth.py; the other 5 are the held-out check.
RT60_CAL = (1.135, -0.081)


def blind_rt60(x16: np.ndarray, noise_level_dbov: float, hop_s: float = 0.005, win_s: float = 0.032,
               min_drop_db: float = 5.0, skip_db: float = 6.0, tolerance_db: float = 3.0,
               percentile: float = 35.0) -> dict:
    """Blind RT60 from the decay rates of speech offsets (after Ratnam et al. 2003 / Löllmann et al. 2010).

    A room cannot make sound die away faster than its own free decay, and many speech offsets are
    abrupt, so the energy decays that follow offsets in running speech approach the room's decay rate.
    Steps: band-pass 250-4000 Hz (valid for narrowband too); energy envelope in dB (32 ms Hann
    windows, 5 ms hop); from each local maximum follow the envelope down while it keeps falling
    (3 dB tolerance for ripples) and stays 8 dB above the noise floor. The first 6 dB of each decay
    are skipped (direct sound and early reflections fall faster than the reverberant tail, as in
    T20/T30 vs EDT); if at least 5 dB and 30 ms remain, a least-squares slope (dB/s) gives
    RT60_i = -60 / slope. The estimate is the 35th percentile of RT60_i, mapped through the linear
    calibration ``RT60_CAL``. Parameters were chosen on simulated rooms by held-out error (see
    tests/profiles/groundtruth.py). Dry close-talk speech reads about 0.15-0.25 s; with strong noise
    (decays reach the floor quickly) fewer decays qualify. NaN with fewer than 3 decays.
    """
    sos = butter(4, [250, 4000], btype="band", fs=VAD_SR, output="sos")
    y = sosfiltfilt(sos, np.asarray(x16, dtype=np.float64))
    hop, win = int(hop_s * VAD_SR), int(win_s * VAD_SR)
    if len(y) < win * 10:
        return {"rt60_s": float("nan"), "rt60_decays": 0}
    n = (len(y) - win) // hop + 1
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    w = np.hanning(win)
    e = 10 * np.log10(np.mean((y[idx] * w[None, :]) ** 2, axis=1) / np.mean(w ** 2) + EPS)
    floor = float(np.percentile(e, 5))
    if np.isfinite(noise_level_dbov):
        floor = max(floor, noise_level_dbov)
    stop = floor + 8.0
    rts = []
    i = 1
    while i < n - 1:
        if not (e[i] >= e[i - 1] and e[i] > e[i + 1] and e[i] > stop + min_drop_db + skip_db):
            i += 1
            continue
        j, lowest = i, e[i]
        while j + 1 < n and e[j + 1] <= lowest + tolerance_db and e[j + 1] > stop:
            j += 1
            lowest = min(lowest, e[j])
        seg = e[i:j + 1]
        if e[i] - lowest >= min_drop_db + skip_db:
            tail = seg[int(np.argmax(seg <= e[i] - skip_db)):]
            if len(tail) * hop_s >= 0.03:
                slope = np.polyfit(np.arange(len(tail)) * hop_s, tail, 1)[0]
                if slope < 0:
                    rts.append(-60.0 / slope)
        i = max(j, i + 1)
    if len(rts) < 3:
        return {"rt60_s": float("nan"), "rt60_decays": len(rts)}
    raw = float(np.percentile(rts, percentile))
    a, b = RT60_CAL
    return {"rt60_s": max(0.0, a * raw + b), "rt60_raw_s": raw, "rt60_decays": len(rts)}


# --------------------------------------------------------------------------------------------------

def estimate_recording(x: np.ndarray, sr: int, vad: VadResult | None = None, raw_pcm16: np.ndarray | None = None,
                       codec_chain: bool = False) -> dict:
    """All estimators on one mono recording ``x`` (float32 at its native ``sr``). ``raw_pcm16``: the file's
    integer samples when it is 16-bit PCM (enables the G.711 grid check). ``codec_chain``: also look for a
    low-rate speech codec before the last hop in narrowband recordings (synth.profiles.codec_chain; ~0.5 s
    of CPU per recording)."""
    x = np.asarray(x, dtype=np.float32)
    x16 = resample(x, sr, VAD_SR)
    v = vad if vad is not None else detect_speech(x16, VAD_SR)
    speech, noise = speech_noise_masks(v)
    pw = frame_powers(x16, VAD_SR, len(v.probs), v.frame_s)
    noise_src = "vad"
    if noise.sum() >= 3:
        p_noise = float(np.nanmean(pw[noise]))
        noise_db_frames = 10 * np.log10(pw[noise] + EPS)
    else:  # continuous speech: the quietest frames are the best noise estimate left
        finite = pw[np.isfinite(pw)]
        p_noise = float(np.percentile(finite, 5)) if finite.size else float("nan")
        noise_db_frames = np.array([])
        noise_src = "percentile"
    noise_db = 10 * np.log10(max(p_noise, EPS)) if np.isfinite(p_noise) else float("nan")
    level, p56, info = _speech_level(x16, speech, noise, pw, p_noise)

    activity = float(speech.mean()) if len(speech) else 0.0
    wada = wada_snr(x16)
    wada_active = wada - 10 * np.log10(max(activity, 0.05)) if np.isfinite(wada) else float("nan")
    snr = level - noise_db

    f, ltas = long_term_spectrum(x, sr, speech if speech.any() else None, v.frame_s)
    bw = bandwidth(f, ltas, sr)
    pb = (f >= 300) & (f <= 1000)
    lowb = (f >= 50) & (f <= 200)
    low_band = float(np.mean(ltas[lowb]) - np.mean(ltas[pb])) if lowb.any() and pb.any() else 0.0
    g711 = g711_grid(raw_pcm16) if sr == 8000 else None

    out = {
        "duration_s": len(x) / sr,
        "sample_rate": int(sr),
        "vad_backend": v.backend,
        "speech_activity": activity,
        "speech_s": float(speech.sum() * v.frame_s),
        "noise_s": float(noise.sum() * v.frame_s) if noise_src == "vad" else 0.0,
        "speech_level_dbov": level,
        "p56_level_dbov": p56,
        "noise_level_dbov": noise_db,
        "noise_estimate_from": noise_src,
        "snr_db": snr,
        "wada_snr_db": wada_active,
        "wada_snr_raw_db": wada,
        "snr_disagreement_db": abs(snr - wada_active) if np.isfinite(wada_active) else float("nan"),
        "noise_sd_db": float(np.std(noise_db_frames)) if noise_db_frames.size >= 3 else float("nan"),
        "low_band_rel_db": low_band,
        **bw,
        "dc_offset": float(np.mean(x, dtype=np.float64)),
        **clipping(x),
        **info,
    }
    out["codec_guess"] = guess_codec(bw, sr, low_band, g711)
    if codec_chain and bw["bandwidth_class"] == "narrowband":
        from .codec_chain import detect
        out.update(detect(x, sr))
    if noise.sum() >= 8:
        fn, ln = long_term_spectrum(x, sr, noise, v.frame_s)
        out.update(noise_shape(fn, ln))
    else:
        out["noise_tilt_db_per_oct"] = float("nan")
    out.update(blind_rt60(x16, noise_db))
    return out
