"""How accurate and how complete ``synth align`` is, on utterances whose word times are known.

1. Speech Commands concatenations (:func:`synth.align.reference.speech_commands_set`): single-word clips
   from ../shared/corpus/speech, each word's onset/offset found by energy, laid out with pauses of known
   length over recorded noise at 30 dB and 15 dB SNR, and at 30 dB sent as 8 kHz G.711 mu-law.
   Error = aligned minus reference time of every word start and end.
2. The telephone calls' hand-marked keyword spans (../shared/corpus/telephone: ``keyword_start``,
   ``keyword_end``), aligned through ``synth align`` itself with ``--text-key text_verbatim`` and
   ``text``; with and without a one-line ``--dict`` for the invented product name "Onword". When the
   keyword occurs more than once, the occurrence that overlaps the marked span most is scored (else the
   nearest).
3. The quality check on deliberately wrong transcripts of the same calls (another call's transcript,
   two words appended, one word replaced, two words dropped at the start or end): share rejected.
   The check's thresholds were set on these calls' correct transcripts, so its false-rejection rate
   there is in-sample. Aligned with the "Onword" pronunciation, so fewer calls drop out as OOV.
4. Coverage on ../shared/corpus (the speech rows of its manifest): share aligned and passing the check.

Throughput (utterances/s, audio-s/s with ``--workers``) is the telephone run's. Timings on the shared
2-core machine are noisy.

    python scripts/measure_alignment.py [--n 100] [--workers 2] [--out /tmp/measure_alignment]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synth.align import quality  # noqa: E402
from synth.align.aligner import Aligner  # noqa: E402
from synth.align.cli import run  # noqa: E402
from synth.align.reference import boundary_errors, speech_commands_set  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
ONWORD = "onword AA N W ER D\n"


def stats_ms(errors: list[float]) -> dict:
    e = np.asarray(errors, dtype=np.float64) * 1000
    a = np.abs(e)
    return {"n": int(len(e)), "median_ms": round(float(np.median(a)), 1), "p90_ms": round(float(np.percentile(a, 90)), 1),
            "mean_signed_ms": round(float(e.mean()), 1)} if len(e) else {"n": 0}


_ALIGNER = None


def _align(job):
    global _ALIGNER
    _ALIGNER = _ALIGNER or Aligner(dict(l.split(None, 1) for l in ONWORD.splitlines()))
    samples, sr, text = job
    a = _ALIGNER.align(samples, sr, text)
    return a.failure, a.words, (quality.problems(a) if not a.failure else [])


def concatenations(n: int, workers: int) -> dict:
    out = {}
    for name, kw in (("30dB", {"snr_db": 30.0}), ("15dB", {"snr_db": 15.0}),
                     ("30dB_g711_8k", {"snr_db": 30.0, "telephone": True})):
        refs = speech_commands_set(CORPUS, n, seed=7, **kw)
        with ProcessPoolExecutor(workers) as pool:
            res = list(pool.map(_align, [(r.samples, r.sr, r.text) for r in refs], chunksize=4))
        starts, ends, per_word = [], [], defaultdict(list)
        failed = flagged = 0
        for r, (failure, words, probs) in zip(refs, res):
            if failure:
                failed += 1
                continue
            flagged += bool(probs)
            e = boundary_errors(r.words, words)
            starts += e[0::2]
            ends += e[1::2]
            for w, s, t in zip(r.words, e[0::2], e[1::2]):
                per_word[w["word"]] += [s, t]
        out[name] = {"utterances": n, "failed": failed, "flagged": flagged, "words": len(starts),
                     "boundaries": stats_ms(starts + ends), "starts": stats_ms(starts), "ends": stats_ms(ends),
                     "per_word_signed_ms": {w: [round(1000 * float(np.median(v[0::2])), 1),
                                                round(1000 * float(np.median(v[1::2])), 1)]
                                            for w, v in sorted(per_word.items())}}
    return out


def _kw_parts(keyword: str) -> list[str]:
    parts = re.findall(r"[A-Z][a-z]+|[a-z]+", keyword)
    return [p.lower() for p in parts] or [keyword.lower()]


def keyword_errors(aligned: Path) -> dict:
    rows = [json.loads(l) for l in open(CORPUS / "telephone" / "manifest.jsonl")]
    out_rows = [json.loads(l) for l in open(aligned)]
    errs, n_aligned, n_found, multi = [], 0, 0, 0
    for r, o in zip(rows, out_rows):
        if "words" not in o:
            continue
        n_aligned += 1
        ws = o["words"]
        low = [re.sub(r"[^a-z]", "", w["word"].lower()) for w in ws]
        parts, whole = _kw_parts(r["keyword"]), r["keyword"].lower()
        occ = []
        for i in range(len(ws)):
            if low[i] == whole:
                occ.append((ws[i]["start"], ws[i]["end"]))
            elif low[i:i + len(parts)] == parts:
                occ.append((ws[i]["start"], ws[i + len(parts) - 1]["end"]))
        if not occ:
            continue
        n_found += 1
        multi += len(occ) > 1
        ks, ke = r["keyword_start"], r["keyword_end"]
        best = max(occ, key=lambda se: (min(se[1], ke) - max(se[0], ks), -abs((se[0] + se[1]) / 2 - (ks + ke) / 2)))
        errs += [best[0] - ks, best[1] - ke]
    return {"calls": len(rows), "aligned": n_aligned, "coverage": round(n_aligned / len(rows), 3),
            "keyword_timed": n_found, "keyword_more_than_once": multi, "boundaries": stats_ms(errs),
            "starts": stats_ms(errs[0::2]), "ends": stats_ms(errs[1::2])}


def telephone(out: Path, workers: int) -> dict:
    dict_file = out / "onword.dict"
    dict_file.write_text(ONWORD)
    res = {}
    for key in ("text_verbatim", "text"):
        for use_dict in (True, False):
            name = f"{key}{'+dict' if use_dict else ''}"
            target = out / f"telephone_{name}.jsonl"
            bank = out / f"fillers_{name}" if key == "text_verbatim" else None
            summary = run(str(CORPUS / "telephone"), str(target), key, str(dict_file) if use_dict else None, workers,
                          None if bank is None else str(bank))
            res[name] = {"summary": {k: summary[k] for k in ("utterances", "aligned", "problems", "audio_s", "seconds")
                                     } | ({"fillers": summary["fillers"]} if "fillers" in summary else {}),
                         "utterances_per_s": round(summary["utterances"] / summary["seconds"], 2),
                         "audio_s_per_s": round(summary["audio_s"] / summary["seconds"], 1),
                         "keywords": keyword_errors(target)}
    return res


def corrupted(n: int, workers: int) -> dict:
    rows = [json.loads(l) for l in open(CORPUS / "telephone" / "manifest.jsonl")]
    rng = random.Random(3)
    texts = [r["text"] for r in rows]
    sub = rng.sample(rows, min(n, len(rows)))
    jobs, kinds = [], []
    for r in sub:
        x, sr = sf.read(str(CORPUS / "telephone" / r["audio_filepath"]), dtype="float32")
        w = r["text"].split()
        cases = {"correct": r["text"], "another_call": rng.choice(texts),
                 "two_appended": r["text"] + " " + " ".join(rng.choice(texts).split()[:2])}
        if len(w) > 4:
            w2 = list(w)
            w2[len(w) // 2] = rng.choice(rng.choice(texts).split())
            cases |= {"one_replaced": " ".join(w2), "first_two_dropped": " ".join(w[2:]),
                      "last_two_dropped": " ".join(w[:-2])}
        for k, t in cases.items():
            jobs.append((x, sr, t))
            kinds.append(k)
    with ProcessPoolExecutor(workers) as pool:
        res = list(pool.map(_align, jobs, chunksize=4))
    out = defaultdict(lambda: {"n": 0, "oov": 0, "failed": 0, "flagged": 0, "passed": 0})
    for k, (failure, _, probs) in zip(kinds, res):
        c = out[k]
        c["n"] += 1
        key = ("oov" if failure.startswith("out-of-vocabulary") else "failed") if failure else \
            "flagged" if probs else "passed"
        c[key] += 1
    for c in out.values():
        m = c["n"] - c["oov"]
        c["rejected_share_without_oov"] = round((c["failed"] + c["flagged"]) / m, 3) if m else None
    return dict(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="concatenated utterances per condition; calls corrupted")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None, help="folder for the aligned manifests (default: a temp folder)")
    ap.add_argument("--skip", nargs="*", default=[], choices=("concat", "telephone", "corrupted", "corpus"))
    a = ap.parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix="measure_alignment_"))
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {}
    if "concat" not in a.skip:
        res["concatenations"] = concatenations(a.n, a.workers)
    if "corpus" not in a.skip:
        s = run(str(CORPUS), str(out / "corpus.jsonl"), None, None, a.workers)
        res["corpus_speech"] = {"utterances": s["utterances"], "aligned": s["aligned"],
                                "coverage": round(s["aligned"] / s["utterances"], 3), "problems": s["problems"]}
    if "telephone" not in a.skip:
        res["telephone"] = telephone(out, a.workers)
    if "corrupted" not in a.skip:
        t = time.monotonic()
        res["quality_check"] = corrupted(a.n, a.workers)
        res["quality_check_seconds"] = round(time.monotonic() - t, 1)
    res["out"] = str(out)
    (out / "results.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
