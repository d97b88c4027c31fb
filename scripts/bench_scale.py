"""Benchmark how a build scales with the number of items: the peak memory of the build's parent process
(which plans, hands out chunks and streams the manifest, labels and card) and the files it creates.

Each size is built in a fresh process (short single-talker items, no room or noise, ``--workers`` worker
processes, sharded tar output by default); the parent's peak RSS should not grow with the set, and the
files created per 10,000 items should be O(shards), not O(items).

    python scripts/bench_scale.py [--sizes 2000 20000] [--workers 2] [--shard-size 1000] [--container tar]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(n: int, out: Path, workers: int, shard_size: int, container: str) -> dict:
    sys.path.insert(0, str(REPO))
    from synth.build import build
    from synth.cli import compose_config

    cfg = compose_config([f"n_items={n}", f"out_dir={out}", f"workers={workers}", "room=none", "noise=none",
                          f"sources.root={REPO.parent / 'shared' / 'corpus'}", f"output.shard_size={shard_size}",
                          f"output.container={container}"])
    t0 = time.perf_counter()
    build(cfg)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    return {"items": n, "wall_s": round(time.perf_counter() - t0, 1), "files": files,
            "files_per_10k_items": round(files * 10000 / n, 1),
            "parent_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shard-size", type=int, default=1000, help="0: loose files, no shards")
    ap.add_argument("--container", default="tar")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        print(json.dumps(child(a.child, a.out, a.workers, a.shard_size, a.container)))
        return
    rows = []
    for n in a.sizes:
        out = Path(tempfile.mkdtemp(prefix="synth-scale-"))
        try:
            res = subprocess.run([sys.executable, __file__, f"--child={n}", f"--out={out / 'set'}",
                                  f"--workers={a.workers}", f"--shard-size={a.shard_size}",
                                  f"--container={a.container}"], check=True, capture_output=True, text=True)
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        finally:
            shutil.rmtree(out, ignore_errors=True)
    rss = [r["parent_peak_rss_mb"] for r in rows]
    print(json.dumps({"runs": rows, "rss_growth": round(max(rss) / min(rss) - 1, 3),
                      "shard_size": a.shard_size, "container": a.container}, indent=2))


if __name__ == "__main__":
    main()
