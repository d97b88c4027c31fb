"""Benchmark start-up against corpus size: a 2-item build from corpora of 2k, 20k and 200k speech files.

Each corpus is a folder with a ``manifest.jsonl`` whose speech rows are symlinks to ../shared/corpus's
speech files (100 utterances per speaker, LibriSpeech-like), plus its noise and RIR rows, so the audio is
real and the only thing that grows is the number of files. For each size the same 2-item build
(``n_items=2`` and the demo defaults) runs in a fresh process twice: cold (no source index yet) and warm
(index cached); both are timed against the same build from ../shared/corpus itself with a warm index.
Peak RSS is the build process's. The header scan alone is timed in-process (files per second).

    python scripts/bench_pools.py [--sizes 2000 20000 200000] [--keep DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO.parent / "shared" / "corpus").resolve()
PER_SPEAKER = 100
# `synth <args>` that reports its own peak RSS on stderr when it ends
CHILD = ("import resource, sys; from synth.cli import main; code = main(sys.argv[1:]); "
         "print(f'peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr); sys.exit(code)")


def make_corpus(folder: Path, n: int) -> Path:
    """``n`` speech rows (symlinks to the real corpus's speech, cycling through it) + its noise and RIRs."""
    if (folder / "manifest.jsonl").exists():
        return folder
    rows = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines() if line.strip()]
    speech = [r for r in rows if r.get("kind", "speech") == "speech"]
    tmp = folder.with_name(folder.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "speech").mkdir(parents=True)
    with open(tmp / "manifest.jsonl", "w") as out:
        for i in range(n):
            src = speech[i % len(speech)]
            spk = f"spk{i // PER_SPEAKER:05d}"
            rel = f"speech/{spk}/utt{i:07d}{Path(src['path']).suffix}"
            if i % PER_SPEAKER == 0:
                (tmp / "speech" / spk).mkdir()
            os.symlink(CORPUS / src["path"], tmp / rel)
            out.write(json.dumps({"path": rel, "kind": "speech", "speaker": spk, "gender": "MF"[i // PER_SPEAKER % 2],
                                  "transcript": src["transcript"], "duration_s": src["duration_s"],
                                  "license": src.get("license")}) + "\n")
        for r in rows:
            if r.get("kind") in ("noise", "rir"):
                out.write(json.dumps({**r, "path": str(CORPUS / r["path"])}) + "\n")
    tmp.rename(folder)
    return folder


def timed_build(root: Path, out: Path, cache: Path) -> dict:
    """One 2-item build in a fresh process: wall time and the child's peak RSS."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "SYNTH_CACHE": str(cache)}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, "build", "n_items=2", f"sources.root={root}", f"out_dir={out}"],
                       cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"build from {root} failed: {r.stderr.strip()}")
    rss_kb = int(r.stderr.rsplit("peak_rss_kb=", 1)[1].split()[0])
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss_kb / 1024, 1)}


def drop_index(root: Path, cache: Path) -> None:
    """Forget what the source index knows of ``root`` (the simulated-room cache stays warm)."""
    shutil.rmtree(root / ".synth-index", ignore_errors=True)
    shutil.rmtree(cache / "index", ignore_errors=True)


def header_scan_rate(root: Path) -> float:
    """Files per second of a cold header scan of ``root``'s speech (in this process, default workers)."""
    sys.path.insert(0, str(REPO))
    from synth.sources.index import SourceIndex

    rows = [json.loads(l) for l in (root / "manifest.jsonl").read_text().splitlines() if '"speech"' in l]
    paths = [str(root / r["path"]) for r in rows]
    with tempfile.TemporaryDirectory() as cache:
        index = SourceIndex.open(root, "speech", cache_dir=Path(cache), writable_beside=False)
        t0 = time.perf_counter()
        index.headers(paths)
        return len(paths) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 200000])
    ap.add_argument("--keep", type=Path, default=None, help="make (or reuse) the corpora here")
    ap.add_argument("--runs", type=int, default=3, help="warm builds per corpus (median reported)")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_pools_"))
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    try:
        timed_build(CORPUS, work / "out", cache)  # warms the index of ../shared/corpus
        ref = sorted(timed_build(CORPUS, work / "out", cache)["wall_s"] for _ in range(args.runs))[args.runs // 2]
        print(json.dumps({"corpus": str(CORPUS), "warm_wall_s": ref}))
        for n in args.sizes:
            root = make_corpus(work / f"corpus_{n}", n)
            drop_index(root, cache)
            cold = timed_build(root, work / "out", cache)
            warm = [timed_build(root, work / "out", cache) for _ in range(args.runs)]
            wall = sorted(w["wall_s"] for w in warm)[args.runs // 2]
            print(json.dumps({"files": n, "cold_wall_s": cold["wall_s"], "warm_wall_s": wall,
                              "warm_over_shared_corpus": round(wall / ref, 2),
                              "peak_rss_mb": max(w["peak_rss_mb"] for w in [cold, *warm]),
                              "header_scan_files_per_s": round(header_scan_rate(root))}), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
