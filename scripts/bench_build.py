"""Benchmark `synth build`: real-time factor (audio seconds generated per CPU second) and peak memory.

Default: 200 single-talker items with recorded noise and a cached simulated room (the pool is simulated
once before timing, as any second build of the same config would find it cached).

    python scripts/bench_build.py [--n 200] [--workers 1] [extra hydra overrides...]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synth.build import finish, jobs_for, run_jobs  # noqa: E402
from synth.cli import compose_config  # noqa: E402
from synth.plan import make_plan  # noqa: E402


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("overrides", nargs="*", default=["room=simulated", "room.p=1.0", "noise=recorded"])
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="synth-bench-"))
    try:
        cfg = compose_config([f"n_items={a.n}", f"workers={a.workers}", f"out_dir={out}",
                              f"sources.root={REPO.parent / 'shared' / 'corpus'}", *a.overrides])
        t0 = time.perf_counter()
        plan = make_plan(cfg)  # builds pools and the RIR pool (cached on disk after the first run)
        setup_s = time.perf_counter() - t0
        jobs = jobs_for(plan)
        c0, w0 = cpu_seconds(), time.perf_counter()
        run_jobs(plan, out, jobs, a.workers)
        items = finish(plan, out, jobs)
        cpu, wall = cpu_seconds() - c0, time.perf_counter() - w0
        audio_s = sum(it["duration"] for it in items)
        peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        result = {"items": len(items), "audio_s": round(audio_s, 1), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                  "rtf_per_core": round(audio_s / cpu, 1), "rtf_wall": round(audio_s / wall, 1),
                  "peak_rss_mb": round(peak_mb, 1), "setup_s": round(setup_s, 2), "workers": a.workers,
                  "overrides": a.overrides}
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
