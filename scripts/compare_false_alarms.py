"""How often does ``synth compare`` call two samples of the *same* real population different?

    python scripts/compare_false_alarms.py [--corpus ../shared/corpus] [--trials 100] [--n-synthetic 40]
        [--cache /tmp/telephone_rows.json]

Every call of ``<corpus>/telephone`` is measured once (compare's per-recording estimators; cached in
``--cache``). Then, per device, ``--trials`` times: the calls are split at random into a "real" half and
a pseudo-synthetic sample of ``--n-synthetic`` other calls of the same device, and compare's verdict rule
(synth.profiles.compare.compare_rows) judges every per-recording feature. A pseudo-synthetic sample is real,
so every "farther than sampling explains" is a false alarm. Prints the false-alarm share per device and
feature, and the share of trials with at least one false alarm.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from synth.profiles import compare
from synth.progress import progress_bar


def measure(corpus: Path, cache: Path) -> list[dict]:
    if cache.is_file():
        return json.loads(cache.read_text())
    tel = corpus / "telephone"
    items = [json.loads(ln) for ln in (tel / "manifest.jsonl").read_text().splitlines() if ln.strip()]
    rows = []
    with progress_bar(len(items), label="measuring telephone", stderr=True) as bar:
        for it in items:
            r = compare.analyse_units(tel / it["audio_filepath"], it["audio_filepath"])["recording"][0]
            rows.append({**r, "device": it["device"]})
            bar.advance(r["duration_s"])
    cache.write_text(json.dumps(rows, default=float))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/telephone_rows.json"))
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--n-synthetic", type=int, default=40)
    ap.add_argument("--splits", type=int, default=compare.N_SPLITS)
    args = ap.parse_args()
    rows = measure(args.corpus.resolve(), args.cache)
    by = defaultdict(list)
    for r in rows:
        by[r["device"]].append(r)
    rng = np.random.default_rng(0)
    for dev, calls in sorted(by.items()):
        n_syn = min(args.n_synthetic, len(calls) // 2)
        far, any_far, judged = defaultdict(int), 0, 0
        for t in range(args.trials):
            order = rng.permutation(len(calls))
            syn = [calls[i] for i in order[:n_syn]]
            real = [calls[i] for i in order[n_syn:][: (len(calls) + 1) // 2]]
            res = compare.compare_rows(real, syn, seed=t, n_splits=args.splits)
            flagged = [r["feature"] for r in res if r["verdict"] == compare.FAR]
            for f in flagged:
                far[f] += 1
            any_far += bool(flagged)
            judged = sum(r["verdict"] in (compare.CLOSE, compare.FAR) for r in res)
        print(f"{dev}: {len(real)} real vs {n_syn} pseudo-synthetic calls, {args.trials} trials, {judged} features: "
              f"at least one false alarm in {any_far / args.trials:.0%} of trials")
        for f in list(compare.FEATURES) + list(compare.CATEGORICAL):
            print(f"  {f:24s} {far[f] / args.trials:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
