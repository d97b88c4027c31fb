"""Fidelity on real calls: per device, fit on half the calls, build from the fit, compare with the other half.

    python scripts/telephone_fidelity.py --work /tmp/telfid [--corpus ../shared/corpus] [--n 40]
        [--devices landline cellphone speakerphone] [--seed 0] [--steps split fit build compare]

For each ``device`` value of ``<corpus>/telephone/manifest.jsonl`` the calls are shuffled (seeded) and
split in two halves: ``<work>/<device>/fit`` and ``<work>/<device>/held`` (folders of symlinks; nothing
is copied). Then, with this checkout's code:

    python -m synth.cli fit <work>/<device>/fit --out <work>/<device>/profile.yaml
    python -m synth.cli build profile=<work>/<device>/profile.yaml n_items=<n> out_dir=<work>/<device>/set \
        sources.root=<corpus>
    python -m synth.cli compare <work>/<device>/held <work>/<device>/set --out <work>/<device>/compare

The build step first deletes ``<work>/<device>/set`` (a previous build). Each command's wall time is written to ``<work>/timings.json``; the per-recording tables are in
``<work>/<device>/compare/compare.md``. Extra build overrides: ``--build-override key=value`` (repeatable).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np


def split(corpus: Path, work: Path, devices: list[str], seed: int) -> None:
    tel = corpus / "telephone"
    rows = [json.loads(ln) for ln in (tel / "manifest.jsonl").read_text().splitlines() if ln.strip()]
    by = defaultdict(list)
    for r in rows:
        by[r["device"]].append(r)
    for dev in devices:
        calls = sorted(by[dev], key=lambda r: r["id"])
        order = np.random.default_rng([seed, sum(map(ord, dev))]).permutation(len(calls))
        half = len(calls) // 2
        for name, idx in (("fit", order[:half]), ("held", order[half:])):
            d = work / dev / name
            d.mkdir(parents=True, exist_ok=True)
            for i in idx:
                src = (tel / calls[i]["audio_filepath"]).resolve()
                link = d / src.name
                if not link.exists():
                    os.symlink(src, link)
        print(f"{dev}: {half} calls to fit, {len(calls) - half} held out", file=sys.stderr)


ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], timings: dict, key: str) -> None:
    print("$ " + " ".join(cmd), file=sys.stderr)
    t0 = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)   # python -m synth.cli: this checkout's synth
    timings[key] = round(time.time() - t0, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--corpus", default=Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus", type=Path)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--devices", nargs="+", default=["landline", "cellphone", "speakerphone"])
    ap.add_argument("--steps", nargs="+", default=["split", "fit", "build", "compare"])
    ap.add_argument("--build-override", action="append", default=[])
    args = ap.parse_args()
    work, corpus = args.work.resolve(), args.corpus.resolve()
    tfile = work / "timings.json"
    timings = json.loads(tfile.read_text()) if tfile.is_file() else {}
    if "split" in args.steps:
        split(corpus, work, args.devices, args.seed)
    py = [sys.executable, "-m", "synth.cli"]
    for dev in args.devices:
        d = work / dev
        if "fit" in args.steps:
            run(py + ["fit", str(d / "fit"), "--out", str(d / "profile.yaml")], timings, f"{dev}/fit")
        if "build" in args.steps:
            shutil.rmtree(d / "set", ignore_errors=True)   # a rebuild (new code or profile) starts afresh
            run(py + ["build", f"profile={d / 'profile.yaml'}", f"n_items={args.n}", f"out_dir={d / 'set'}",
                      f"sources.root={corpus}", *args.build_override], timings, f"{dev}/build")
        if "compare" in args.steps:
            run(py + ["compare", str(d / "held"), str(d / "set"), "--out", str(d / "compare")], timings,
                f"{dev}/compare")
        tfile.write_text(json.dumps(timings, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
