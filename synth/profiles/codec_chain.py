"""Codec chains: did a narrowband recording pass a low-rate speech codec before its last hop?

A cellular call reaches a recorder as G.711 (the last hop), but its speech was coded by the phone's vocoder
(AMR-NB, GSM-FR, ...; a VoIP leg: Opus) and decoded in the network first. The samples keep traces of that
vocoder; :func:`detect` measures them on one recording (8 kHz, 16-bit; other narrowband rates are resampled)
and names the family: ``g711_only`` (no vocoder trace), ``amr_nb``, ``gsm_fr``, ``opus_nb``, or
``unknown`` (weak or conflicting evidence: a top probability under 0.5, or under 0.8 with less than
1.5 s of speech).

Evidence (every number is reported per recording, ``codec_chain_ev_<name>``):

* re-encoding consistency: speech already coded by a codec changes less when coded by it again. The most
  active 3 s are coded with each probe (AMR-NB 12.2 and 4.75 kbit/s, GSM-FR, Opus 12 kbit/s; synth's
  real codecs, delay removed) and coded again; ``rs1_<probe>`` is the mean per-20 ms-frame SNR (dB) between the
  LPC residuals (fine structure: the vocoder's post-filter makes the envelope alone unreliable) of the
  recording and of its re-coded version, ``rsd_<probe>`` the same minus the second generation's (how much
  closer to a fixed point of that codec the recording is than a once-coded signal), ``lsd1``/``lsdr`` the
  log-spectral distance (dB) and its first/second generation ratio. Frames are not re-aligned to the
  original codec's 20 ms grid: an exact realignment would need 160 re-encodings (a few seconds of CPU per
  recording) and, for AMR-NB, sharpens the effect only slightly (its post-filter keeps it far from idempotent).
* excitation shape: a vocoder's excitation is a few quantised pulses per 5 ms subframe, so the LPC residual
  of decoded speech is sparser than that of uncoded speech: ``rh<k>`` is the histogram of |residual| / rms
  per 5 ms subframe (bins ``RESIDUAL_BINS``), over all, the louder and the quieter half of the speech frames.
* GSM-FR's regular-pulse excitation puts the innovation on every third sample of a subframe: ``mod3`` is
  the share of residual energy on the strongest of the 3 sample phases in 39-sample blocks (1/3 for noise).

A multinomial logistic model over these (``codec_chain_model.py``, trained by
``scripts/validate_codec_chain.py --train`` on known chains built from corpus speech and real landline calls)
turns them into family probabilities, and a second one into an AMR-NB rate class (>= 10.2 kbit/s or not).
Measured (``python scripts/validate_codec_chain.py``; speech -> [vocoder] -> G.711, -35..-15 dBov, recorded
noise at 5-30 dB SNR): family right on 95.0 % of 160 chains from held-out corpus speakers and noises and
86.7 % of 120 chains from held-out real landline calls (unknown counted wrong; GSM-FR 70/70; the main error
is G.711-only called opus_nb, 12/70); AMR-NB rate class right on 64/70. Fitted shares are corrected for the
cross-validated confusion (:func:`corrected_shares`). What it cannot see: codecs it was not trained on
(EVRC, G.729, ...) are called by the family they resemble, or ``unknown``; radio frame errors are not
estimated (a fitted chain has no frame loss).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import stft

from ..audio import resample
from ..channel import codecs as C

FAMILIES = ("g711_only", "amr_nb", "gsm_fr", "opus_nb")
UNKNOWN = "unknown"
# family -> (synth codec, bitrates a build draws from, in bit/s)
VOCODERS = {"amr_nb": ("amr_nb", (12200, 7950, 4750)), "gsm_fr": ("gsm_fr", (13000,)),
            "opus_nb": ("opus", (8000, 12000, 16000))}
PROBES = (("amr_nb", 12200), ("amr_nb", 4750), ("gsm_fr", 13000), ("opus", 12000))
RESIDUAL_BINS = (0, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 4, np.inf)
SR = 8000
FRAME = 160                 # 20 ms at 8 kHz: the frame of every codec probed here
SUBFRAME = 40               # 5 ms
LPC_ORDER = 10
EXCERPT_FRAMES = 150        # 3 s: the most active stretch is re-encoded
MIN_SPEECH_S = 0.5          # less active speech: unknown
SHORT_SPEECH_S = 1.5        # below, the evidence is noisier: a family is named only at MIN_CONFIDENCE_SHORT
MIN_CONFIDENCE, MIN_CONFIDENCE_SHORT = 0.5, 0.8   # chosen on the tuning sets (validate_codec_chain.py)


# ------------------------------------------------------------------------------------------ LPC

def frame_lpc(x: np.ndarray, order: int = LPC_ORDER, win: int = 240) -> np.ndarray:
    """LPC polynomials (n_frames, order + 1) per 20 ms frame: autocorrelation method over a 30 ms Hamming
    window centred on the frame, 60 Hz Gaussian lag window; silent frames get A(z) = 1."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x) // FRAME
    pad = (win - FRAME) // 2
    xp = np.pad(x, (pad, win))
    idx = np.arange(win)[None, :] + FRAME * np.arange(n)[:, None]
    seg = xp[idx] * np.hamming(win)
    r = np.fft.irfft(np.abs(np.fft.rfft(seg, 512, axis=1)) ** 2, axis=1)[:, :order + 1]
    r = r * np.exp(-0.5 * (2 * np.pi * 60 / SR * np.arange(order + 1)) ** 2)
    r[:, 0] *= 1.0001
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    for k in np.flatnonzero(r[:, 0] > 1e-3):
        a[k, 1:] = -solve_toeplitz(r[k, :order], r[k, 1:order + 1])
    return a


def lpc_residual(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Prediction error of ``x`` through each frame's A(z), (n_frames, FRAME)."""
    x = np.asarray(x, dtype=np.float64)
    n, p = a.shape[0], a.shape[1] - 1
    xp = np.concatenate([np.zeros(p), x[:n * FRAME]])
    lagged = np.lib.stride_tricks.sliding_window_view(xp, p + 1)[:, ::-1][:n * FRAME]
    return np.einsum("flk,fk->fl", lagged.reshape(n, FRAME, p + 1), a)


def _frames_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return 10 * np.log10(np.mean(np.asarray(x[:n * FRAME], np.float64).reshape(n, FRAME) ** 2, axis=1) + 1e-3)


def active_frames(x: np.ndarray) -> np.ndarray:
    """Speech-like frames: within 25 dB of the loud frames (95th percentile) and above the 30th percentile."""
    en = _frames_db(x)
    if not en.size:
        return np.zeros(0, bool)
    return en > max(np.percentile(en, 95) - 25.0, np.percentile(en, 30))


def excerpt(x: np.ndarray, n_frames: int = EXCERPT_FRAMES) -> tuple[int, int]:
    """(start sample, frames) of the stretch of up to ``n_frames`` frames holding the most active frames."""
    act = active_frames(x).astype(float)
    if len(act) <= n_frames:
        return 0, len(act)
    k = int(np.argmax(np.convolve(act, np.ones(n_frames), "valid")))
    return k * FRAME, n_frames


# ------------------------------------------------------------------------------------- evidence

_DELAYS: dict = {}


def recode(pcm: np.ndarray, codec: str, bitrate_bps: int) -> np.ndarray:
    """``pcm`` (int16, 8 kHz) through one real codec round trip, its measured delay removed, same length."""
    spec = C.CODECS[codec]
    key = (codec, bitrate_bps)
    if key not in _DELAYS:  # a property of the codec library, measured once per process
        _DELAYS[key] = C.measure_delay(spec, SR, bitrate_bps)
    y = C.roundtrip(spec, pcm, SR, bitrate_bps)
    return C.fit_length(y[_DELAYS[key]:], len(pcm))


def _residual_snr(x: np.ndarray, y: np.ndarray, act: np.ndarray) -> float:
    ex = lpc_residual(x, frame_lpc(x))
    ey = lpc_residual(y, frame_lpc(y))
    snr = 10 * np.log10((np.sum(ex ** 2, 1) + 1e-3) / (np.sum((ex - ey) ** 2, 1) + 1e-3))
    return float(np.mean(snr[act]))


def _log_spectral_distance(x: np.ndarray, y: np.ndarray) -> float:
    kw = dict(fs=SR, nperseg=256, noverlap=128, boundary=None, padded=False)
    f, _, zx = stft(np.asarray(x, np.float64), **kw)
    _, _, zy = stft(np.asarray(y, np.float64), **kw)
    a, b = 10 * np.log10(np.abs(zx) ** 2 + 1), 10 * np.log10(np.abs(zy) ** 2 + 1)
    band = (f >= 200) & (f <= 3400)
    loud = a[band].mean(0) > np.percentile(a[band].mean(0), 40)
    return float(np.mean(np.sqrt(np.mean((a - b)[band][:, loud] ** 2, axis=0))))


def _probe_name(codec: str, bitrate: int) -> str:
    return f"{codec}{bitrate // 100}"


def _histogram(sub: np.ndarray) -> np.ndarray:
    if not sub.size:
        return np.full(len(RESIDUAL_BINS) - 1, np.nan)
    rms = np.sqrt(np.mean(sub ** 2, axis=1, keepdims=True)) + 1e-9
    h, _ = np.histogram(np.abs(sub / rms).ravel(), bins=RESIDUAL_BINS)
    return h / max(h.sum(), 1)


def evidence(pcm: np.ndarray) -> dict:
    """Every evidence number (see the module docstring) for 8 kHz int16 ``pcm``."""
    pcm = np.asarray(pcm, dtype=np.int16)
    x = pcm.astype(np.float64)
    act = active_frames(x)
    a = frame_lpc(x)
    e = lpc_residual(x, a)
    ev: dict = {"speech_s": float(act.sum() * FRAME / SR)}
    ea = e[act]
    loud = _frames_db(x)[act]
    upper = loud >= np.median(loud) if loud.size else np.zeros(0, bool)
    for tag, rows in (("", ea), ("H", ea[upper]), ("L", ea[~upper])):
        for i, v in enumerate(_histogram(rows.reshape(-1, SUBFRAME))):
            ev[f"rh{tag}{i}"] = float(v)
    if ea.size:
        blocks = np.stack([ea[:, s:s + 39] for s in range(0, FRAME - 39, 8)], 1) ** 2
        phase = np.stack([blocks[..., j::3].sum(-1) for j in range(3)], -1)
        conc = phase.max(-1) / (phase.sum(-1) + 1e-9)
        ev["mod3"], ev["mod3_p90"] = float(conc.mean()), float(np.percentile(conc, 90))
    else:
        ev["mod3"] = ev["mod3_p90"] = float("nan")
    start, n = excerpt(x)
    seg = pcm[start:start + n * FRAME]
    seg_act = active_frames(seg)
    for codec, br in PROBES:
        name = _probe_name(codec, br)
        if n < 10 or not seg_act.any():
            for k in ("rs1", "rsd", "lsd1", "lsdr"):
                ev[f"{k}_{name}"] = float("nan")
            continue
        r1 = recode(seg, codec, br)
        r2 = recode(r1, codec, br)
        s1 = _residual_snr(seg, r1, seg_act)
        ev[f"rs1_{name}"] = s1
        ev[f"rsd_{name}"] = s1 - _residual_snr(r1, r2, seg_act)
        d1 = _log_spectral_distance(seg, r1)
        ev[f"lsd1_{name}"] = d1
        ev[f"lsdr_{name}"] = d1 / max(_log_spectral_distance(r1, r2), 1e-6)
    return ev


# ------------------------------------------------------------------------------------- decision

def _standardised(ev: dict, model: dict) -> np.ndarray:
    z = []
    for name, mean, scale in zip(model["features"], model["mean"], model["scale"]):
        v = ev.get(name)
        v = mean if v is None or not np.isfinite(v) else v  # missing: the training mean (no evidence)
        z.append((v - mean) / scale)
    return np.asarray(z)


def _softmax(s: np.ndarray) -> np.ndarray:
    p = np.exp(s - s.max())
    return p / p.sum()


def _model(model: dict | None) -> dict:
    if model is None:
        from .codec_chain_model import MODEL as model
    return model


def probabilities(ev: dict, model: dict | None = None) -> dict:
    """Family probabilities from the evidence through the multinomial logistic model."""
    model = _model(model)
    p = _softmax(_standardised(ev, model) @ np.asarray(model["weights"]) + np.asarray(model["bias"]))
    return {f: float(v) for f, v in zip(model["families"], p)}


def amr_high_rate_probability(ev: dict, model: dict | None = None) -> float:
    """For AMR-NB-coded speech: probability that it was coded at a high-rate mode (10.2 or 12.2 kbit/s)
    rather than 4.75-7.95 kbit/s (a second logistic model on the same evidence)."""
    model = _model(model)
    m = model["amr_high_rate"]
    return float(_softmax(_standardised(ev, model) @ np.asarray(m["weights"]) + np.asarray(m["bias"]))[1])


def classify(ev: dict, model: dict | None = None) -> tuple[str, dict]:
    """(family or "unknown", probabilities)."""
    p = probabilities(ev, model)
    best = max(p, key=p.get)
    speech = ev.get("speech_s", 0.0)
    need = MIN_CONFIDENCE if speech >= SHORT_SPEECH_S else MIN_CONFIDENCE_SHORT
    if speech < MIN_SPEECH_S or p[best] < need:
        return UNKNOWN, p
    return best, p


# Evidence numbers carried into the per-recording row of a fit (``codec_chain_ev_<name>``)
ROW_EVIDENCE = ("speech_s", "mod3", "rh0", "rhL0",
                *(f"{k}_{_probe_name(c, b)}" for c, b in PROBES for k in ("rs1", "rsd")))


def detect(x: np.ndarray, sr: int) -> dict:
    """Per-recording codec-chain estimate of a narrowband recording ``x`` (float at ``sr`` >= 8 kHz; resampled
    to 8 kHz), as flat keys for the fit's per-recording row: ``codec_chain`` (family or "unknown"),
    ``codec_chain_confidence``, ``codec_chain_p_<family>`` (probabilities), ``codec_chain_amr_high_rate`` (AMR-NB
    only: probability of a 10.2/12.2 kbit/s mode) and ``codec_chain_ev_<name>`` (evidence, ROW_EVIDENCE)."""
    if sr < SR:
        return {"codec_chain": None}
    if sr != SR:
        x = resample(np.asarray(x, np.float32), sr, SR)
    ev = evidence(C.to_pcm16(x))
    fam, p = classify(ev)
    out = {"codec_chain": fam, "codec_chain_confidence": round(max(p.values()), 4)}
    out.update({f"codec_chain_p_{k}": round(v, 4) for k, v in p.items()})
    if fam == "amr_nb":
        out["codec_chain_amr_high_rate"] = round(amr_high_rate_probability(ev), 4)
    out.update({f"codec_chain_ev_{k}": ev.get(k, float("nan")) for k in ROW_EVIDENCE})
    return out


# ------------------------------------------------------------------------------------- fit, build

FRAME_ERRORS_NOTE = ("not fitted: radio frame errors (and their concealment) are not estimated from decoded "
                     "speech; the fitted vocoder hop has no frame loss")


def fit_codec_chain(rows: list[dict]) -> dict | None:
    """The profile's ``codec_chain`` block from per-recording rows: ``called``, the share of recordings called
    each family (and unknown); ``choice``/``weights``, the family shares corrected for the detector's
    confusion (:func:`corrected_shares`: what the build draws from); for AMR-NB the modes the rate evidence
    supports (the high-rate share split evenly over 12.2/10.2 kbit/s, the rest over 7.95/7.4/5.9/4.75).
    None when no recording was analysed (no narrowband recordings)."""
    fams = [r.get("codec_chain") for r in rows if r.get("codec_chain")]
    if not fams:
        return None
    called = {f: fams.count(f) for f in (*FAMILIES, UNKNOWN)}
    out: dict = {"n_recordings": len(fams), "called": {f: round(c / len(fams), 3) for f, c in called.items()}}
    if called[UNKNOWN] < len(fams):
        shares = corrected_shares(called)
        present = [(f, round(w, 3)) for f, w in zip(FAMILIES, shares) if round(w, 3) > 0]
        out["choice"] = [f for f, _ in present]
        out["weights"] = [w for _, w in present]
    high = [r["codec_chain_amr_high_rate"] for r in rows
            if r.get("codec_chain") == "amr_nb" and r.get("codec_chain_amr_high_rate") is not None]
    if high:
        from .codec_chain_model import MODEL
        hi_bps, lo_bps = MODEL["amr_high_rate"]["high_bps"], MODEL["amr_high_rate"]["low_bps"]
        p = float(np.mean(high))
        out["amr_nb_bitrate_bps"] = {"choice": [*hi_bps, *lo_bps],
                                     "weights": [round(p / len(hi_bps), 3)] * len(hi_bps)
                                     + [round((1 - p) / len(lo_bps), 3)] * len(lo_bps)}
    out["frame_errors"] = FRAME_ERRORS_NOTE
    return out


def corrected_shares(called: dict, model: dict | None = None) -> list[float]:
    """Family shares (in FAMILIES order) of a population whose recordings were called ``called`` ({family or
    "unknown": count}), corrected for the detector's confusion: the shares pi >= 0, sum 1, whose expected
    called distribution (pi @ P(called | family), cross-validated on the tuning sets) is nearest to the
    observed one (least squares); families no recording was called get no share. A g711_only population whose
    recordings are sometimes called opus_nb is so fitted as mostly g711_only."""
    from scipy.optimize import nnls

    model = _model(model)
    conf = np.asarray(model["confusion"]["rows"], dtype=np.float64)       # true family x called
    cols = model["confusion"]["called"]
    n = sum(called.values())
    if n == 0:
        return [0.0] * len(FAMILIES)
    q = np.array([called.get(c, 0) / n for c in cols])
    seen = [i for i, f in enumerate(FAMILIES) if called.get(f, 0) > 0]  # a family never called gets no share
    if not seen:
        return [0.0] * len(FAMILIES)
    big = 10.0  # weight of the sum-to-one row
    sol, _ = nnls(np.vstack([conf[seen].T, big * np.ones(len(seen))]), np.concatenate([q, [big]]))
    pi = np.zeros(len(FAMILIES))
    pi[seen] = sol / max(sol.sum(), 1e-12)
    return [float(v) for v in pi]


def vocoded_share(spec: dict | None) -> float:
    """Share of recordings (with a told chain) that passed a vocoder."""
    if not spec or not spec.get("choice"):
        return 0.0
    return float(sum(w for f, w in zip(spec["choice"], spec.get("weights") or []) if f in VOCODERS))


def chain_step(spec: dict | None) -> dict | None:
    """A recorder ``codec`` step for the vocoder hop of a fitted ``codec_chain`` (placed before the last-hop
    codec): applied with the vocoded share, drawing the vocoder by the fitted family weights (AMR-NB at the
    fitted modes, Opus narrowband at 8-16 kbit/s). None when no recording showed a vocoder."""
    p = vocoded_share(spec)
    if p <= 0:
        return None
    voc = {f: w for f, w in zip(spec["choice"], spec["weights"]) if f in VOCODERS and w > 0}
    step = {"name": "codec", "p": round(min(1.0, p), 6),
            "codec": {"choice": [VOCODERS[f][0] for f in voc], "weights": [round(w / p, 6) for w in voc.values()]},
            "bandwidth": "narrowband", "remove_added_dc": True}   # no decoder DC (see the codec effect)
    rates = {}
    if "amr_nb" in voc:
        rates["amr_nb"] = spec.get("amr_nb_bitrate_bps") or {"choice": list(VOCODERS["amr_nb"][1])}
    if "opus_nb" in voc:
        rates["opus"] = {"choice": list(VOCODERS["opus_nb"][1])}
    if rates:
        step["bitrate_bps"] = rates
    return step
