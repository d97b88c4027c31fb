"""Fidelity on real calls: per device, fit on half the calls, build from the fit, compare with the other half.

    python scripts/telephone_fidelity.py --work /tmp/telfid [--corpus ../shared/corpus] [--per-half 60] [--n 60]
        [--devices landline cellphone speakerphone] [--seed 0] [--asr pocketsphinx|whisper|none]
        [--steps split fit build compare eval summary] [--eval-items K] [--keep-keywords]
        [--build-override key=value ...]

For each ``device`` value of ``<corpus>/telephone/manifest.jsonl`` the calls are shuffled (seeded) and split
in two halves, each cut to ``--per-half`` calls (0: all): ``<work>/<device>/fit`` and ``<work>/<device>/held``
(folders of symlinks; nothing is copied), ``<work>/fit.jsonl`` (the fit halves of every device, a NeMo
manifest with the ``device`` key) and ``<work>/<device>/held.jsonl`` (the held half, for ``eval --real``).
Then, with this checkout's code:

    python -m synth.cli fit <work>/fit.jsonl --by device --out <work>/profile.yaml    # profile_<device>.yaml
    python -m synth.cli build profile=<work>/profile_<device>.yaml n_items=<n> out_dir=<work>/<device>/set \
        sources.root=<corpus>
    python -m synth.cli compare <work>/<device>/held <work>/<device>/set --out <work>/<device>/compare
    python -m synth.cli eval <work>/<device>/set asr=... --real <work>/<device>/held.jsonl

The invented product names the callers were asked to say (Onword, ThinkEngine, ...) are left out of the
real side of the WER (no engine knows them; the synthetic side has none): the hand-marked keyword span is
cut out of the audio (10 ms fades, written to ``<work>/<device>/held_eval/``) and its words out of the
reference; a call whose transcript does not hold the name exactly once (only one span is marked) is left
out of the WER. ``--keep-keywords`` scores the calls as they are (hypotheses are cached per call id: use
another ``--work`` for it). ``--asr whisper`` uses Whisper base from
``$SYNTH_CACHE/whisper-base-ct2`` (../shared/research/asr_engines.md) with its VAD filter.

``summary`` prints, per device, the per-recording features of compare (median real-vs-synthetic distance
next to the real-vs-real median and 95th percentile, verdict) and the WERs with their ratio, and writes
them to ``<work>/fidelity.json`` (``--label`` names the run inside it, e.g. before/after). The build step
first deletes ``<work>/<device>/set`` (a previous build) and its synthetic hypotheses. Wall times go to
``<work>/timings.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
FADE_S = 0.01


def keyword_words(keyword: str) -> list[str]:
    """'ThinkEngine' -> ['think', 'engine'] (the transcripts' spelling of the names)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", keyword).lower().split()


def drop_keyword(row: dict, tel: Path, out: Path) -> dict | None:
    """The call with its hand-marked keyword span cut out of the audio (written to ``out``) and the keyword's
    words out of the text; None unless the transcript holds the keyword exactly once (only one span is
    marked: a name said twice cannot be left out of both audio and text)."""
    words, kw = row["text"].split(), keyword_words(row["keyword"])
    hits = [i for i in range(len(words) - len(kw) + 1) if words[i:i + len(kw)] == kw]
    if len(hits) != 1 or row.get("keyword_start") is None:   # absent, or said again where no span is marked
        return None
    x, sr = sf.read(str(tel / row["audio_filepath"]), dtype="float32", always_2d=False)
    i = hits[0]
    a, b = int(float(row["keyword_start"]) * sr), int(float(row["keyword_end"]) * sr)
    n = int(FADE_S * sr)
    head, tail = x[:a].copy(), x[b:].copy()
    if head.size >= n and tail.size >= n:
        ramp = np.linspace(1.0, 0.0, n, dtype=np.float32)
        head[-n:] *= ramp
        tail[:n] *= ramp[::-1]
    y = np.concatenate([head, tail])
    dst = out / f"{row['id']}.wav"
    sf.write(str(dst), y, sr, subtype="PCM_16")
    text = " ".join(words[:i] + words[i + len(kw):])
    return {**row, "audio_filepath": str(dst), "text": text, "duration": round(y.size / sr, 3)}


def split(corpus: Path, work: Path, devices: list[str], seed: int, per_half: int, keep_keywords: bool) -> None:
    tel = corpus / "telephone"
    rows = [json.loads(ln) for ln in (tel / "manifest.jsonl").read_text().splitlines() if ln.strip()]
    by = defaultdict(list)
    for r in rows:
        by[r["device"]].append(r)
    fit_lines = []
    for dev in devices:
        calls = sorted(by[dev], key=lambda r: r["id"])
        order = np.random.default_rng([seed, sum(map(ord, dev))]).permutation(len(calls))
        half = len(calls) // 2
        parts = {"fit": order[:half], "held": order[half:]}
        if per_half:
            parts = {k: v[:per_half] for k, v in parts.items()}
        for name, idx in parts.items():
            d = work / dev / name
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            for i in idx:
                src = (tel / calls[i]["audio_filepath"]).resolve()
                os.symlink(src, d / src.name)
        fit_lines += [{**calls[i], "audio_filepath": str((tel / calls[i]["audio_filepath"]).resolve())}
                      for i in parts["fit"]]
        held, dropped = [], 0
        ev = work / dev / "held_eval"
        shutil.rmtree(ev, ignore_errors=True)
        ev.mkdir(parents=True)
        for i in parts["held"]:
            row = {**calls[i], "audio_filepath": str((tel / calls[i]["audio_filepath"]).resolve())}
            if not keep_keywords:
                row = drop_keyword(calls[i], tel, ev)
            if row is None:
                dropped += 1
            else:
                held.append({k: v for k, v in row.items() if k not in ("keyword_start", "keyword_end")})
        (work / dev / "held.jsonl").write_text("".join(json.dumps(r) + "\n" for r in held))
        print(f"{dev}: {len(parts['fit'])} calls to fit, {len(parts['held'])} held out ({len(held)} scored, "
              f"{dropped} whose transcript does not hold the keyword exactly once left out of the WER)",
              file=sys.stderr)
    (work / "fit.jsonl").write_text("".join(json.dumps(r) + "\n" for r in fit_lines))


def run(cmd: list[str], timings: dict, key: str) -> None:
    print("$ " + " ".join(cmd), file=sys.stderr)
    t0 = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)   # python -m synth.cli: this checkout's synth
    timings[key] = round(time.time() - t0, 1)


def whisper_dir() -> Path:
    return Path(os.environ.get("SYNTH_CACHE", Path.home() / ".cache" / "synth")) / "whisper-base-ct2"


def eval_overrides(asr: str) -> list[str]:
    if asr == "whisper":   # greedy decoding (beam 1): the same on both sides, half the CPU of beam 5
        return ["asr=faster_whisper", f"asr.model={whisper_dir()}", "asr.vad_filter=true",
                "asr.condition_on_previous_text=false", "asr.beam_size=1"]
    return [f"asr={asr}"]


def eval_inputs(d: Path, k: int) -> tuple[Path, Path]:
    """(set folder, real manifest) for the WER: the first ``k`` items of each side (0: all). The set's subset
    is a folder of links beside it with a shortened manifest (items are drawn independently, so the first k
    are a fair sample)."""
    if not k:
        return d / "set", d / "held.jsonl"
    sub = d / f"set_first{k}"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir()
    for p in (d / "set").iterdir():
        if p.name not in ("manifest.jsonl", "eval", "compare"):
            os.symlink(p, sub / p.name)
    lines = (d / "set" / "manifest.jsonl").read_text().splitlines(keepends=True)
    (sub / "manifest.jsonl").write_text("".join(lines[:k]))
    real = d / f"held_first{k}.jsonl"
    real.write_text("".join((d / "held.jsonl").read_text().splitlines(keepends=True)[:k]))
    return sub, real


def summarize(work: Path, devices: list[str], asr: str, label: str) -> dict:
    """Per device: the per-recording verdict table of compare.json and the WERs of eval --real."""
    out = {}
    for dev in devices:
        d = work / dev
        comp = json.loads((d / "compare" / "compare.json").read_text()) if (d / "compare" / "compare.json").is_file() \
            else None
        feats = []
        for r in (comp or {}).get("features", []):
            ref = r.get("reference") or {}
            feats.append({"feature": r["feature"], "unit": r.get("unit", ""),
                          "median_real": r.get("median_real"), "median_synthetic": r.get("median_synthetic"),
                          "real_vs_real_median": ref.get("real_vs_real_median"),
                          "real_vs_real_p95": ref.get("real_vs_real_p95"),
                          "real_vs_synthetic": ref.get("real_vs_synthetic"),
                          "p_real_vs_real": ref.get("p_real_vs_real"), "verdict": r["verdict"]})
        res = {"n_real": (comp or {}).get("n_real"), "n_synthetic": (comp or {}).get("n_synthetic"),
               "features": feats, "n_close": sum(f["verdict"].startswith("as close") for f in feats),
               "n_judged": sum(f["verdict"].startswith(("as close", "farther")) for f in feats)}
        rj = d / "eval_out" / asr / "results.json"
        if rj.is_file():
            r = json.loads(rj.read_text())
            rv = r.get("real_vs_synthetic") or {}
            res["wer"] = {"engine": asr, "n_real": (r.get("real") or {}).get("n_items"), "n_synthetic": len(r["items"]),
                          **{k: rv.get(k) for k in ("real_wer", "real_wer_ci", "synthetic_wer", "synthetic_wer_ci",
                                                    "ratio", "ratio_ci")}}
        out[dev] = res
    fj = work / "fidelity.json"
    allruns = json.loads(fj.read_text()) if fj.is_file() else {}
    allruns[label] = out
    fj.write_text(json.dumps(allruns, indent=1) + "\n")
    return out


def fmt(x, nd=2) -> str:
    return "–" if x is None else f"{x:.{nd}f}"


def print_summary(out: dict) -> None:
    for dev, res in out.items():
        print(f"\n## {dev}: {res['n_close']}/{res['n_judged']} per-recording features as close as another sample "
              f"of real calls ({res['n_real']} real held-out calls vs {res['n_synthetic']} synthetic items)\n")
        print("| feature | median real / synth | real-vs-real median, 95th pct | real-vs-synthetic | p | verdict |")
        print("|---|---|---|---|---|---|")
        for f in res["features"]:
            print(f"| {f['feature']} | {fmt(f['median_real'], 3)} / {fmt(f['median_synthetic'], 3)} | "
                  f"{fmt(f['real_vs_real_median'], 3)}, {fmt(f['real_vs_real_p95'], 3)} | "
                  f"{fmt(f['real_vs_synthetic'], 3)} | {fmt(f['p_real_vs_real'])} | "
                  f"{'close' if f['verdict'].startswith('as close') else f['verdict']} |")
        w = res.get("wer")
        if w:
            ci = w.get("ratio_ci") or [None, None]
            print(f"\nWER ({w['engine']}): real {fmt(w['real_wer'], 3)} ({w['n_real']} calls), synthetic "
                  f"{fmt(w['synthetic_wer'], 3)} ({w['n_synthetic']} items), ratio {fmt(w['ratio'])} "
                  f"[{fmt(ci[0])}, {fmt(ci[1])}]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--corpus", default=ROOT / ".." / "shared" / "corpus", type=Path)
    ap.add_argument("--per-half", type=int, default=60, help="calls per half and device (0: all)")
    ap.add_argument("--n", type=int, default=60, help="synthetic items per device")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--devices", nargs="+", default=["landline", "cellphone", "speakerphone"])
    ap.add_argument("--steps", nargs="+", default=["split", "fit", "build", "compare", "eval", "summary"])
    ap.add_argument("--asr", default="pocketsphinx", help="pocketsphinx, whisper (base, offline) or none")
    ap.add_argument("--eval-items", type=int, default=0, help="WER on the first k items of each side (0: all)")
    ap.add_argument("--keep-keywords", action="store_true", help="score the calls with their product names")
    ap.add_argument("--label", default="run", help="name of this run in <work>/fidelity.json")
    ap.add_argument("--build-override", action="append", default=[])
    args = ap.parse_args()
    work, corpus = args.work.resolve(), args.corpus.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tfile = work / "timings.json"
    timings = json.loads(tfile.read_text()) if tfile.is_file() else {}
    py = [sys.executable, "-m", "synth.cli"]
    if "split" in args.steps:
        split(corpus, work, args.devices, args.seed, args.per_half, args.keep_keywords)
    if "fit" in args.steps:
        run(py + ["fit", str(work / "fit.jsonl"), "--by", "device", "--out", str(work / "profile.yaml")], timings,
            "fit")
    for dev in args.devices:
        d = work / dev
        if "build" in args.steps:
            shutil.rmtree(d / "set", ignore_errors=True)   # a rebuild (new code or profile) starts afresh
            for p in (d / "eval_cache").glob("*") if (d / "eval_cache").is_dir() else []:
                if p.name != "real":                        # the synthetic hypotheses were of the old set
                    shutil.rmtree(p)
            run(py + ["build", f"profile={work / f'profile_{dev}.yaml'}", f"n_items={args.n}",
                      f"out_dir={d / 'set'}", f"sources.root={corpus}", *args.build_override], timings,
                f"{dev}/build")
        if "compare" in args.steps:
            run(py + ["compare", str(d / "held"), str(d / "set"), "--out", str(d / "compare")], timings,
                f"{dev}/compare")
        if "eval" in args.steps and args.asr != "none":
            set_dir, real = eval_inputs(d, args.eval_items)
            run(py + ["eval", str(set_dir), *eval_overrides(args.asr), f"cache_dir={d / 'eval_cache'}",
                      f"out={d / 'eval_out' / args.asr}", "report.enabled=false", "--real", str(real)],
                timings, f"{dev}/eval/{args.asr}")
        tfile.write_text(json.dumps(timings, indent=1) + "\n")
    if "summary" in args.steps:
        print_summary(summarize(work, args.devices, args.asr, args.label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
