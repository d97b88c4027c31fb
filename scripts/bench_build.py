"""Benchmark `synth build`: real-time factor (audio seconds generated per CPU second), peak memory, and
yardsticks for the same items:

* the I/O floor: decode their sources, place the speech, encode the set's output audio and write it, no
  effects. The output signals are taken from a reference build made before timing, so the floor writes
  the set's own bytes (checked); ``build_over_floor`` is the cost of a build in floors.
* the dry floor: the same, encoding the placed dry speech instead (this script's floor until 2026-11-30).
  Dry speech with its pauses compresses to ~2/3 of the bytes of the noisy, reverberant output, and
  encodes faster, so this floor is lower than what writing the set costs (``build_over_dry_floor``).
* a synth build with every effect off: the floor plus sampling, manifest, labels and card
  (``no_effects_over_floor`` is the part of a build that is synth's bookkeeping rather than effects).

Default: 200 single-talker items with recorded noise and a cached simulated room (the pool is simulated
once before timing, as any second build of the same config would find it cached). They are measured
``--runs`` times, alternating, and the medians reported (this machine's CPU time drifts by ~10%, and the
median of five rounds still moves by about +-0.1 in ``build_over_floor`` from one invocation to the next).

    python scripts/bench_build.py [--n 200] [--workers 1] [--executor local|ray] [hydra overrides...]
    python scripts/bench_build.py --baseline /path/to/old/checkout scenario=conversation   # before/after

``--executor ray`` starts a private Ray cluster of ``--workers`` CPUs (its start-up, worker imports included,
and its shutdown are reported apart);
Ray's workers are not children of this process, so compare executors by wall time (``rtf_wall``).
``--baseline`` runs that checkout's own bench script and this one alternately, ``--repeat`` times each, in
subprocesses of this one run, and prints the runs side by side (their spread shows the machine's noise).
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import soundfile as sf  # noqa: E402

from synth.audio import atomic_write_bytes, encode_audio, resample  # noqa: E402
from synth.build import finish, jobs_for, run_jobs  # noqa: E402
from synth.cli import compose_config  # noqa: E402
from synth.context import RenderContext  # noqa: E402
from synth.executor import make_executor  # noqa: E402
from synth.plan import make_plan, sample_recipe  # noqa: E402
from synth.room.bank import rir_for  # noqa: E402
from synth.writer.item import SetInfo, file_tags  # noqa: E402
from synth.writer.shards import ShardLayout  # noqa: E402


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def io_floor(plan, recipes: list[tuple[str, dict]], out: Path, outputs: dict | None = None) -> None:
    """What any build of these items must do: decode the sources it reads (speech, noise, the RIRs of its
    rooms) with the same file cache a worker keeps, place the speech on the timeline, encode the output
    with its tags, write it. ``outputs``: item id -> the set's output samples to encode (None: the placed
    dry speech, the dry floor)."""
    info = SetInfo.of(plan)
    ctx = RenderContext(plan.pools.root)
    rooms = {}
    for _, r in recipes:
        for t in r["talkers"]:
            for e in t["effects"]:
                if e["name"] == "room" and e["params"].get("applied", True) is not False:
                    p = e["params"]
                    rooms[(p["kind"], p["rel_path"], str(p["spec"]))] = p
    for p in rooms.values():  # each RIR once, as a worker's cache holds them
        rir_for(p["kind"], p["rel_path"], p["spec"], plan.sr, ctx)
    for item_id, r in recipes:
        sr = int(r["sample_rate"])
        y = np.zeros(int(round(r["duration_s"] * sr)), dtype=np.float32)
        for t in r["talkers"]:
            for u in t["utterances"]:
                seg = ctx.load(u["path"], sr)[int(round(u["src_start_s"] * sr)): int(round(u["src_end_s"] * sr))]
                at = int(round(u["start_s"] * sr))
                seg = seg[: max(0, len(y) - at)]
                y[at: at + len(seg)] += seg
        for leg in r["legs"]:
            for e in leg["effects"]:
                if e["name"] == "add_noise" and e["params"].get("noise_path"):
                    ctx.load(e["params"]["noise_path"], sr)
        out_sr = int((r.get("output") or {}).get("sample_rate") or sr)
        y = resample(y, sr, out_sr) if outputs is None else outputs[item_id]
        atomic_write_bytes(out / "audio" / f"{item_id}.{info.fmt}", encode_audio(y, out_sr, info.fmt,
                                                                                 file_tags(info, item_id)))


def set_outputs(plan, ex, out: Path) -> dict:
    """Build the set once (untimed) and decode its audio: item id -> samples, what the floor encodes."""
    build_once(plan, out, ex)
    return {p.stem: sf.read(p, dtype="float32")[0].T for p in sorted((out / "audio").iterdir())}  # (C, T) as rendered


def same_audio(a: Path, b: Path) -> bool:
    return all((a / "audio" / p.name).read_bytes() == p.read_bytes() for p in (b / "audio").iterdir())


NO_EFFECTS = ["room=none", "noise=none", "channel=clean", "level.speech_dbov=null", "level.gain_db=0.0",
              "level.clipping.p=0.0"]


def build_once(plan, out: Path, ex) -> tuple[float, float, object]:
    """One timed build of ``plan`` into ``out``: (CPU s, wall s, its summary)."""
    jobs = jobs_for(plan)
    out.mkdir(parents=True)
    c0, w0 = cpu_seconds(), time.perf_counter()
    run_jobs({None: plan}, out, jobs, ex, ShardLayout.of(plan.cfg))
    summary = finish(plan, out, jobs)
    return cpu_seconds() - c0, time.perf_counter() - w0, summary


def measure(a) -> dict:
    """``a.runs`` rounds of: the I/O floor, the dry floor, the same items built with every effect off, the
    build; medians. Alternating them spreads the machine's drift over all four."""
    out = Path(tempfile.mkdtemp(prefix="synth-bench-"))
    try:
        executor = ["executor=ray", "executor.address=local", f"executor.num_cpus={a.workers}"] \
            if a.executor == "ray" else []
        common = [f"n_items={a.n}", f"workers={a.workers}", f"out_dir={out / 'set'}",
                  f"sources.root={REPO.parent / 'shared' / 'corpus'}", *executor]
        t0 = time.perf_counter()
        plan = make_plan(compose_config([*common, *a.overrides]))  # pools, RIR pool (cached on disk after a first run)
        setup_s = time.perf_counter() - t0
        scene = [o for o in a.overrides if o.split("=")[0].split(".")[0] not in ("room", "noise", "channel", "level")]
        bare = make_plan(compose_config([*common, *scene, *NO_EFFECTS]))  # the same speech, no effects
        recipes = [(j.item_id, sample_recipe(plan, j.item_id)) for j in jobs_for(plan)]
        t0 = time.perf_counter()
        ex = make_executor(plan.cfg)
        start_s = time.perf_counter() - t0
        runs = {"floor": [], "dry_floor": [], "no_effects": [], "build": [], "wall": []}
        try:
            outputs = set_outputs(plan, ex, out / "reference")
            for k in range(a.runs):
                c0 = cpu_seconds()
                io_floor(plan, recipes, out / f"floor{k}", outputs)
                runs["floor"].append(cpu_seconds() - c0)
                c0 = cpu_seconds()
                io_floor(plan, recipes, out / f"dry{k}")
                runs["dry_floor"].append(cpu_seconds() - c0)
                runs["no_effects"].append(build_once(bare, out / f"bare{k}", ex)[0])
                cpu, wall, summary = build_once(plan, out / f"set{k}", ex)
                runs["build"].append(cpu)
                runs["wall"].append(wall)
        finally:  # stopping the executor (a Ray shutdown takes ~1 s) is reported apart, like its start
            t0 = time.perf_counter()
            ex.close()
            stop_s = time.perf_counter() - t0
        if not same_audio(out / "reference", out / "floor0"):
            raise SystemExit("the floor did not write the set's audio bytes; the bench is broken")
        med = {k: float(np.median(v)) for k, v in runs.items()}
        audio_s = summary.total_duration
        peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        return {"items": summary.n_items, "audio_s": round(audio_s, 1), "runs": a.runs,
                "cpu_s": round(med["build"], 2), "wall_s": round(med["wall"], 2),
                "rtf_per_core": round(audio_s / med["build"], 1), "rtf_wall": round(audio_s / med["wall"], 1),
                "io_floor_cpu_s": round(med["floor"], 2), "io_floor_rtf_per_core": round(audio_s / med["floor"], 1),
                "no_effects_cpu_s": round(med["no_effects"], 2),
                "build_over_floor": round(med["build"] / med["floor"], 2),
                "no_effects_over_floor": round(med["no_effects"] / med["floor"], 2),
                "build_over_floor_each_run": [round(b / f, 2) for b, f in zip(runs["build"], runs["floor"])],
                "dry_floor_cpu_s": round(med["dry_floor"], 2), "build_over_dry_floor": round(med["build"] / med["dry_floor"], 2),
                "peak_rss_mb": round(peak_mb, 1),
                "setup_s": round(setup_s, 2), "executor_start_s": round(start_s, 2), "executor_stop_s": round(stop_s, 2),
                "executor": a.executor,
                "workers": a.workers, "overrides": a.overrides}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def compare(a) -> None:
    """Baseline and current bench scripts alternately, each in its own subprocess, side by side."""
    rest = [f"--n={a.n}", f"--workers={a.workers}", *a.overrides]
    runs = {"baseline": [], "current": []}
    for _ in range(a.repeat):
        for name, script in (("baseline", Path(a.baseline) / "scripts" / "bench_build.py"),
                             ("current", Path(__file__).resolve())):
            res = subprocess.run([sys.executable, str(script), *rest], cwd=script.parents[1], check=True,
                                 capture_output=True, text=True)
            runs[name].append(json.loads(res.stdout[res.stdout.index("{"):]))
    rtf = {k: [r["rtf_per_core"] for r in v] for k, v in runs.items()}
    print(json.dumps({"rtf_per_core": rtf, "speedup_of_medians": round(np.median(rtf["current"]) /
                                                                        np.median(rtf["baseline"]), 2),
                      "current": runs["current"][-1]}, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--executor", choices=("local", "ray"), default="local")
    ap.add_argument("--runs", type=int, default=5, help="rounds of floors / no-effects build / build; medians")
    ap.add_argument("--baseline", default=None, help="an older checkout to compare against (before/after)")
    ap.add_argument("--repeat", type=int, default=2, help="with --baseline: runs of each, alternating")
    ap.add_argument("overrides", nargs="*", default=["room=simulated", "room.p=1.0", "noise=recorded"])
    a = ap.parse_args()
    if a.baseline:
        compare(a)
    else:
        print(json.dumps(measure(a), indent=2))


if __name__ == "__main__":
    main()
