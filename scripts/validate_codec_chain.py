"""Validate (and train) the codec-chain detector (synth/profiles/codec_chain.py) on known chains.

Known chains are built from real speech with real codecs, then coded with G.711 mu-law as the last hop:

    g711_only         speech -> G.711
    amr_nb            speech -> AMR-NB (12.2, 10.2, 7.95, 7.4, 5.9 or 4.75 kbit/s) -> G.711
    gsm_fr            speech -> GSM 06.10 full rate -> G.711
    opus_nb           speech -> Opus narrowband (8, 10, 12 or 16 kbit/s, VoIP mode) -> G.711

Sources: ../shared/corpus/speech (utterances of one speaker with pauses, 3-8 s, band-limited 50-300 Hz ..
3.3-3.95 kHz, level -35..-15 dBov P.56, recorded noise from ../shared/corpus/noise at 5-30 dB SNR) and real
landline calls from ../shared/corpus/telephone (assumed to have passed G.711 only; level -35..-15 dBov, half
with added recorded noise at 5-30 dB SNR). Speakers, call sessions and noise files are split into a tuning
set and a held-out set, so the held-out matrices show how the detector does on voices and noises it was
not trained on.

    python scripts/validate_codec_chain.py                  # confusion matrices (evidence cached in --cache)
    python scripts/validate_codec_chain.py --train          # refit synth/profiles/codec_chain_model.py first
    python scripts/validate_codec_chain.py --real           # + shares per device on the real telephone calls
"""

from __future__ import annotations

import argparse
import json
import pprint
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfiltfilt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synth.audio import active_speech_level, load  # noqa: E402
from synth.channel import codecs as C  # noqa: E402
from synth.profiles import codec_chain as CC  # noqa: E402

CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
SR = 8000
TUNE_SPEAKERS = ("cmu_arctic_aew", "cmu_arctic_axb", "librispeech_2412", "librivox_sense_sensibility_reader",
                 "cmusphinx_cards", "jfk", "alsa_speaker_test")
HELD_SPEAKERS = ("librispeech_198", "librispeech_3436", "vctk_p286", "ami_FEE041", "cmu_arctic_unknown_male",
                 "ljspeech_lj", "freesound_davidbain", "cmusphinx_goforward")
TUNE_NOISES = ("speech_commands_doing_the_dishes", "speech_commands_exercise_bike", "speech_commands_running_tap")
HELD_NOISES = ("speech_commands_dude_miaowing", "musan_noise-free-sound-0145")
AMR_MODES = (12200, 10200, 7950, 7400, 5900, 4750)
OPUS_RATES = (8000, 10000, 12000, 16000)
SPLITS = {  # name: (source kind, held out?, default size)
    "tune": ("corpus", False, 560), "ltune": ("landline", False, 480),
    "held": ("corpus", True, 160), "lheld": ("landline", True, 120),
}
# Evidence the family model reads (see codec_chain.evidence)
FEATURES = tuple([f"rh{t}{i}" for t in ("", "H", "L") for i in range(len(CC.RESIDUAL_BINS) - 1)]
                 + ["mod3", "mod3_p90"]
                 + [f"{k}_{CC._probe_name(c, b)}" for c, b in CC.PROBES for k in ("rs1", "rsd", "lsd1", "lsdr")])
HIGH_RATE_BPS = 10200     # AMR-NB modes at or above: "high rate" for the mode model


# ------------------------------------------------------------------------------------------ items

def _noise(rng, names, n):
    nz = load(CORPUS / "noise" / f"{names[rng.integers(len(names))]}.wav", SR).astype(np.float64)
    start = int(rng.integers(0, max(1, len(nz) - n)))
    return np.resize(nz[start:], n)


def _at_level(x, dbov):
    lv = active_speech_level(x.astype(np.float32), SR).level_dbov
    return x * 10 ** ((dbov - lv) / 20)


def corpus_source(rng, speaker, noises):
    """Utterances of ``speaker`` with pauses, 3-8 s, band-limited, levelled, with recorded noise (8 kHz float)."""
    files = sorted(p for p in (CORPUS / "speech" / speaker).iterdir() if p.suffix in (".wav", ".flac"))
    utts = [load(p, SR).astype(np.float64) for p in files]
    target = int(rng.uniform(3.0, 8.0) * SR)
    parts, total = [np.zeros(int(rng.uniform(0.2, 0.8) * SR))], 0
    while total < target:
        u = utts[rng.integers(len(utts))]
        a = int(rng.integers(0, max(1, len(u) - target)))
        u = u[a:a + target]
        parts += [u, np.zeros(int(rng.uniform(0.3, 1.0) * SR))]
        total += len(u)
    level, snr = rng.uniform(-35, -15), rng.uniform(5, 30)
    x = _at_level(np.concatenate(parts)[:target + SR], level)
    nz = _noise(rng, noises, len(x))
    nz *= 10 ** ((level - snr - 10 * np.log10(np.mean(nz ** 2) + 1e-12)) / 20)
    lo, hi = rng.uniform(50, 300), rng.uniform(3300, 3950)
    x = sosfiltfilt(butter(4, [lo, hi], "bandpass", fs=SR, output="sos"), x + nz)
    return x, {"level_dbov": round(level, 1), "snr_db": round(snr, 1), "band_hz": [round(lo), round(hi)]}


def landline_calls(held: bool) -> list[dict]:
    rows = [json.loads(l) for l in (CORPUS / "telephone" / "manifest.jsonl").read_text().splitlines() if l.strip()]
    return [r for r in rows if r["device"] == "landline" and (zlib.crc32(r["speaker"].encode()) % 3 == 0) == held]


def landline_source(rng, call, noises):
    """A real landline call, levelled, half of them with added recorded noise."""
    import soundfile as sf

    x, _ = sf.read(CORPUS / "telephone" / call["audio_filepath"], dtype="float64")
    level = rng.uniform(-35, -15)
    x = _at_level(x, level)
    meta = {"level_dbov": round(level, 1), "snr_db": None, "call": call["id"]}
    if rng.random() < 0.5:
        snr = rng.uniform(5, 30)
        nz = _noise(rng, noises, len(x))
        x = x + nz * 10 ** ((level - snr - 10 * np.log10(np.mean(nz ** 2) + 1e-12)) / 20)
        meta["snr_db"] = round(snr, 1)
    return x, meta


def apply_chain(rng, x, family):
    """``x`` (8 kHz float) through the family's vocoder (a mode drawn) and G.711 mu-law: (int16, chain)."""
    pcm = C.to_pcm16(x)
    hops = []
    if family == "amr_nb":
        br = int(rng.choice(AMR_MODES))
        pcm, hops = CC.recode(pcm, "amr_nb", br), [f"amr_nb@{br}"]
    elif family == "gsm_fr":
        pcm, hops = CC.recode(pcm, "gsm_fr", 13000), ["gsm_fr@13000"]
    elif family == "opus_nb":
        br = int(rng.choice(OPUS_RATES))
        pcm, hops = CC.recode(pcm, "opus", br), [f"opus@{br}"]
    return CC.recode(pcm, "g711_ulaw", 64000), ">".join(hops + ["g711_ulaw"])


def make_item(split: str, i: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Item ``i`` of ``split``: its G.711 samples and truth. Deterministic in (seed, split, i)."""
    kind, held, _ = SPLITS[split]
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), i])
    family = CC.FAMILIES[i % len(CC.FAMILIES)]
    noises = HELD_NOISES if held else TUNE_NOISES
    if kind == "corpus":
        speakers = HELD_SPEAKERS if held else TUNE_SPEAKERS
        spk = speakers[(i // len(CC.FAMILIES)) % len(speakers)]
        x, meta = corpus_source(rng, spk, noises)
    else:
        calls = landline_calls(held)
        call = calls[int(rng.integers(len(calls)))]
        spk = call["speaker"]
        x, meta = landline_source(rng, call, noises)
    pcm, chain = apply_chain(rng, x, family)
    return pcm, {"split": split, "i": i, "family": family, "chain": chain, "speaker": spk, **meta}


def _evidence_row(args):
    split, i, seed = args
    pcm, truth = make_item(split, i, seed)
    return {**truth, "evidence": CC.evidence(pcm)}


def load_split(split: str, n: int, cache: Path, seed: int, workers: int) -> list[dict]:
    """Evidence rows of items 0..n-1 of ``split``, computed once and cached as JSON lines."""
    path = cache / f"{split}_seed{seed}.jsonl"
    rows = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            rows[r["i"]] = r
    todo = [(split, i, seed) for i in range(n) if i not in rows]
    if todo:
        t0 = time.time()
        if workers > 1:
            from multiprocessing import Pool
            with Pool(workers) as pool:
                new = pool.map(_evidence_row, todo, chunksize=4)
        else:
            new = [_evidence_row(a) for a in todo]
        with open(path, "a") as f:
            for r in new:
                f.write(json.dumps(r) + "\n")
                rows[r["i"]] = r
        print(f"{split}: evidence of {len(todo)} items in {time.time() - t0:.0f} s "
              f"({(time.time() - t0) / len(todo):.2f} s/item, {workers} worker(s))", file=sys.stderr)
    return [rows[i] for i in range(n)]


# --------------------------------------------------------------------------------------- training

def _matrix(rows, features):
    return np.array([[r["evidence"].get(k, np.nan) for k in features] for r in rows], dtype=np.float64)


def fit_logistic(X, y, n_classes, c=1.0):
    """Multinomial logistic regression on standardised X: mean log loss + ||w||^2 / (2 c n) (scikit-learn's
    C = c), minimised with L-BFGS. Returns (weights (d, k), bias (k,))."""
    from scipy.optimize import minimize

    n, d = X.shape
    onehot = np.eye(n_classes)[y]
    lam = 1.0 / (c * n)

    def loss(theta):
        w, b = theta[:-n_classes].reshape(d, n_classes), theta[-n_classes:]
        s = X @ w + b
        s -= s.max(1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(1, keepdims=True))
        g = (np.exp(logp) - onehot) / n
        value = -np.sum(onehot * logp) / n + 0.5 * lam * np.sum(w * w)
        return value, np.concatenate([(X.T @ g + lam * w).ravel(), g.sum(0)])

    res = minimize(loss, np.zeros(d * n_classes + n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": 5000})
    return res.x[:-n_classes].reshape(d, n_classes), res.x[-n_classes:]


def _family_model(rows) -> dict:
    X = _matrix(rows, FEATURES)
    mean = np.nanmean(X, 0)
    X = np.where(np.isnan(X), mean, X)
    scale = X.std(0) + 1e-9
    y = np.array([CC.FAMILIES.index(r["family"]) for r in rows])
    w, b = fit_logistic((X - mean) / scale, y, len(CC.FAMILIES))
    return {"families": list(CC.FAMILIES), "features": list(FEATURES), "mean": _round(mean), "scale": _round(scale),
            "weights": [_round(row) for row in w], "bias": _round(b)}


def cross_validated_confusion(rows, folds: int = 5) -> list[list[float]]:
    """P(called | true family) on the tuning rows, each fold's speakers / call sessions held out of the model
    that calls them (rows: true families; columns: families then unknown). Used to correct fitted shares."""
    m = np.zeros((len(CC.FAMILIES), len(COLUMNS)))
    for k in range(folds):
        test = [r for r in rows if zlib.crc32(r["speaker"].encode()) % folds == k]
        model = _family_model([r for r in rows if zlib.crc32(r["speaker"].encode()) % folds != k])
        for r in test:
            m[CC.FAMILIES.index(r["family"]), COLUMNS.index(CC.classify(r["evidence"], model)[0])] += 1
    return [_round(row / row.sum()) for row in m]


def train(rows) -> dict:
    model = _family_model(rows)
    mean, scale = np.array(model["mean"]), np.array(model["scale"])
    amr = [r for r in rows if r["family"] == "amr_nb"]
    Xa = np.where(np.isnan(_matrix(amr, FEATURES)), mean, _matrix(amr, FEATURES))
    ya = np.array([int(int(r["chain"].split(">")[0].split("@")[1]) >= HIGH_RATE_BPS) for r in amr])
    wa, ba = fit_logistic((Xa - mean) / scale, ya, 2, c=0.3)
    model["amr_high_rate"] = {"weights": [_round(row) for row in wa], "bias": _round(ba),
                              "high_bps": [m for m in AMR_MODES if m >= HIGH_RATE_BPS],
                              "low_bps": [m for m in AMR_MODES if m < HIGH_RATE_BPS]}
    model["confusion"] = {"called": list(COLUMNS), "rows": cross_validated_confusion(rows)}
    return model


def _round(v):
    return [float(round(float(x), 6)) for x in np.ravel(v)]


def write_model(model: dict, path: Path, info: str) -> None:
    text = ('"""Codec-chain family model: multinomial logistic regression over codec_chain.evidence.\n\n'
            f"Written by scripts/validate_codec_chain.py --train\n({info}); do not edit by hand.\n"
            '"""\n\n'
            f"MODEL = {pprint.pformat(model, width=115, sort_dicts=False, compact=True)}\n")
    path.write_text(text)


# ------------------------------------------------------------------------------------------ report

COLUMNS = (*CC.FAMILIES, CC.UNKNOWN)


def evaluate(rows, model) -> tuple[np.ndarray, float, float]:
    """Confusion matrix (truth x called, with an unknown column), family accuracy (unknown counts as wrong)
    and the share called unknown."""
    m = np.zeros((len(CC.FAMILIES), len(COLUMNS)), int)
    for r in rows:
        fam, _ = CC.classify(r["evidence"], model)
        m[CC.FAMILIES.index(r["family"]), COLUMNS.index(fam)] += 1
    n = m.sum()
    return m, float(np.trace(m) / n), float(m[:, -1].sum() / n)


def print_matrix(title, m, acc, unk):
    told = m[:, :-1].sum()
    print(f"\n{title}: family accuracy {acc:.3f} ({np.trace(m)}/{m.sum()}, unknown counted wrong); "
          f"unknown {unk:.3f}; accuracy of the told {np.trace(m) / max(told, 1):.3f}")
    w = max(len(c) for c in COLUMNS) + 1
    print("truth \\ called".ljust(16) + "".join(c.rjust(w) for c in COLUMNS))
    for f, row in zip(CC.FAMILIES, m):
        print(f.ljust(16) + "".join(str(v).rjust(w) for v in row))


def print_shares(sets: dict, model) -> None:
    """Fitted family shares (what synth fit puts in the profile) against the truth of known mixtures: the
    raw shares of the called families and the shares corrected for the cross-validated confusion."""
    print("\nfamily shares of known mixtures: truth / raw called (unknown left out) / corrected")
    for name, rows in sets.items():
        truth = [sum(r["family"] == f for r in rows) / len(rows) for f in CC.FAMILIES]
        called = [CC.classify(r["evidence"], model)[0] for r in rows]
        told = [c for c in called if c != CC.UNKNOWN]
        raw = [told.count(f) / max(len(told), 1) for f in CC.FAMILIES]
        corr = CC.corrected_shares({c: called.count(c) for c in set(called)}, model)
        fmt = lambda v: " ".join(f"{x:.2f}" for x in v)  # noqa: E731
        print(f"  {name} (n={len(rows)}): truth {fmt(truth)} | raw {fmt(raw)} | corrected {fmt(corr)}   "
              f"(order: {', '.join(CC.FAMILIES)})")


def amr_mode_accuracy(rows, model) -> str:
    amr = [r for r in rows if r["family"] == "amr_nb"]
    ok = sum((CC.amr_high_rate_probability(r["evidence"], model) >= 0.5)
             == (int(r["chain"].split(">")[0].split("@")[1]) >= HIGH_RATE_BPS) for r in amr)
    return f"AMR-NB rate class (>= {HIGH_RATE_BPS} bit/s or below) right on {ok}/{len(amr)} AMR-NB items"


def _call_row(c):
    import soundfile as sf

    pcm, _ = sf.read(CORPUS / "telephone" / c["audio_filepath"], dtype="int16")
    return {"id": c["id"], "device": c["device"], "speaker": c["speaker"], "evidence": CC.evidence(pcm)}


def real_calls(cache: Path, workers: int) -> None:
    """Detector on every real telephone call: shares per device and evidence distributions."""
    path = cache / "telephone.jsonl"
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done[r["id"]] = r
    calls = [json.loads(l) for l in (CORPUS / "telephone" / "manifest.jsonl").read_text().splitlines() if l.strip()]
    todo = [c for c in calls if c["id"] not in done]
    t0 = time.time()
    if todo:
        from multiprocessing import Pool
        with Pool(workers) as pool, open(path, "a") as f:
            for r in pool.imap(_call_row, todo, chunksize=4):
                f.write(json.dumps(r) + "\n")
                done[r["id"]] = r
        print(f"telephone: evidence of {len(todo)} calls in {time.time() - t0:.0f} s "
              f"({(time.time() - t0) / len(todo):.2f} s/call, {workers} worker(s))", file=sys.stderr)
    print("\nReal telephone calls (../shared/corpus/telephone): family shares per device")
    keys = ("mod3", "rs1_amr_nb122", "rsd_amr_nb47", "rsd_opus120", "rh0")
    print("device".ljust(14) + "n".rjust(5) + "".join(c.rjust(11) for c in COLUMNS) + "   amr high-rate"
          + "".join(f"  {k} p10/50/90" for k in keys))
    for dev in ("landline", "cellphone", "speakerphone"):
        rs = [r for r in done.values() if r["device"] == dev]
        fams = [CC.classify(r["evidence"])[0] for r in rs]
        amr = [CC.amr_high_rate_probability(r["evidence"]) for r, f in zip(rs, fams) if f == "amr_nb"]
        line = dev.ljust(14) + str(len(rs)).rjust(5) + "".join(f"{fams.count(c) / len(rs):11.2f}" for c in COLUMNS)
        line += f"   {np.mean(amr):.2f}".ljust(15) if amr else "   -".ljust(15)
        for k in keys:
            v = np.array([r["evidence"].get(k, np.nan) for r in rs], float)
            line += "  " + "/".join(f"{q:.2f}" for q in np.nanpercentile(v, [10, 50, 90])).rjust(len(k) + 9)
        print(line)
    print("\nfamily shares per device corrected for the cross-validated confusion (what synth fit puts in a profile):")
    for dev in ("landline", "cellphone", "speakerphone"):
        fams = [CC.classify(r["evidence"])[0] for r in done.values() if r["device"] == dev]
        corr = CC.corrected_shares({c: fams.count(c) for c in set(fams)})
        print(f"  {dev:13s} " + "  ".join(f"{f} {v:.2f}" for f, v in zip(CC.FAMILIES, corr))
              + f"   vocoded {1 - corr[0]:.2f}")
    print("\nevidence per called family (all devices), median:")
    for fam in COLUMNS:
        rs = [r for r in done.values() if CC.classify(r["evidence"])[0] == fam]
        if rs:
            print(f"  {fam:10s} n={len(rs):4d}  " + "  ".join(
                f"{k} {np.nanmedian([r['evidence'].get(k, np.nan) for r in rs]):.3f}" for k in keys))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="store_true", help="refit synth/profiles/codec_chain_model.py on the tuning sets")
    ap.add_argument("--real", action="store_true", help="also run on ../shared/corpus/telephone, per device")
    ap.add_argument("--cache", default="/tmp/synth_codec_chain_cache", help="evidence cache folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    for s, (_, _, n) in SPLITS.items():
        ap.add_argument(f"--n-{s}", type=int, default=n, help=f"items in the {s} set (default {n})")
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    data = {s: load_split(s, getattr(args, f"n_{s}"), cache, args.seed, args.workers) for s in SPLITS}
    model = None
    if args.train:
        model = train(data["tune"] + data["ltune"])
        n = {s: len(data[s]) for s in ("tune", "ltune")}
        write_model(model, ROOT / "synth" / "profiles" / "codec_chain_model.py",
                    f"seed {args.seed}, {n['tune']} corpus-speech + {n['ltune']} landline-call items")
        print(f"model written ({len(FEATURES)} evidence features)", file=sys.stderr)
    else:
        from synth.profiles.codec_chain_model import MODEL as model
    for s, title in (("tune", "tuning speakers (corpus speech)"), ("ltune", "tuning call sessions (landline calls)"),
                     ("held", "HELD-OUT speakers and noises (corpus speech)"),
                     ("lheld", "HELD-OUT call sessions and noises (landline calls)")):
        print_matrix(f"{title}, n={len(data[s])}", *evaluate(data[s], model))
        print(amr_mode_accuracy(data[s], model))
    held = data["held"] + data["lheld"]
    print_matrix("all held-out", *evaluate(held, model))
    of = lambda rows, fam: [r for r in rows if r["family"] == fam]  # noqa: E731
    print_shares({"held-out, all families": held, "held-out, g711_only only": of(held, "g711_only"),
                  "held-out landline calls, g711_only only": of(data["lheld"], "g711_only"),
                  "held-out, amr_nb only": of(held, "amr_nb"),
                  "held-out, 3/4 g711_only + 1/4 amr_nb": of(held, "g711_only") + of(held, "amr_nb")[:23]}, model)
    if args.real:
        real_calls(cache, args.workers)
    print(f"\n{time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
