"""executor=ray: a local Ray cluster (2 CPUs, small object store, no dashboard) builds the same bytes as
the local executor, a Ray build killed part-way resumes shard by shard to the same set, and a lost worker's
chunks run again (results in order) up to a bound (whole builds losing workers: test_ray_lost.py)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth.validate import validate_set

from helpers import CORPUS, REPO, build_set

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    """One Ray start for the module (~5 s); builds in this process reuse it, subprocesses join its address."""
    env = {"RAY_AUTH_MODE": "disabled"}  # a loopback test cluster: no token file written into ~/.ray
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    ctx = ray.init(num_cpus=2, object_store_memory=200 * 1024 ** 2, include_dashboard=False,
                   logging_level="warning")
    yield ctx.address_info["gcs_address"]
    ray.shutdown()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "config.yaml"}  # config.yaml records out_dir and the executor


@pytest.mark.parametrize("overrides", [
    ("n_items=8", "noise=recorded_varying", "room=simulated", "room.p=1.0", "level.clipping.p=0.3"),
    ("n_items=6", "scenario=conversation", "noise=recorded", "room=simulated", "room.p=1.0",
     "output.shard_size=4", "output.container=tar"),
], ids=["single_talker", "conversation_tar"])
def test_ray_build_is_byte_identical_to_local(cluster, tmp_path, overrides):
    local = build_set(tmp_path / "local", *overrides, "workers=2")
    on_ray = build_set(tmp_path / "ray", *overrides, "executor=ray")
    a, b = files(local), files(on_ray)
    assert a.keys() == b.keys() and any(k.endswith((".flac", ".tar")) for k in a)
    assert [k for k in a if a[k] != b[k]] == []
    assert validate_set(on_ray) == []


def test_killed_ray_build_resumes(cluster, tmp_path):
    """SIGKILL the driver part-way through a sharded Ray build, rerun it: finished shards are kept as they
    were, the rest are made, and the set equals a local build's."""
    args = [sys.executable, "-m", "synth.cli", "build", "n_items=48", f"sources.root={CORPUS}", "room=none",
            "output.shard_size=4", "executor=ray", f"executor.address={cluster}"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(args + [f"out_dir={killed}"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    done = lambda: sorted((killed / "manifests").glob("manifest_*.jsonl")) if (killed / "manifests").exists() else []
    while time.time() < deadline and len(done()) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in done()}
    assert 2 <= len(finished) < 12, "the kill must land part-way through the build"
    assert not (killed / "manifest.jsonl").exists()
    time.sleep(2)  # Ray reaps the dead driver's actors
    subprocess.run(args + [f"out_dir={killed}"], cwd=REPO, check=True, capture_output=True)
    assert {p.name: p.stat().st_mtime_ns for p in done() if p.name in finished} == finished
    clean = build_set(tmp_path / "clean", "n_items=48", "room=none", "output.shard_size=4")
    a, b = files(killed), files(clean)
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []
    assert len(json.loads((killed / "shards.json").read_text())["shards"]) == 12 and validate_set(killed) == []


def test_asking_for_more_cpus_than_the_cluster_has_is_a_config_error(cluster, tmp_path):
    from synth.errors import ConfigError
    with pytest.raises(ConfigError, match="executor.num_cpus=64: the Ray cluster has 2 CPUs"):
        build_set(tmp_path / "too_many", "n_items=2", "executor=ray", "executor.num_cpus=64")


def _slow_when_even(chunk):
    """A chunk's cost varies (even chunks sleep), so they finish out of order; chunk 7 fails like bad input."""
    from synth.errors import BadInput
    if chunk == 7:
        raise BadInput("/data/a.wav", "cannot be read as audio")
    time.sleep(0.05 if chunk % 2 == 0 else 0.0)
    return chunk, os.getpid()


def test_ray_results_come_in_input_order_and_a_workers_bad_input_arrives_whole(cluster):
    from synth.errors import BadInput
    from synth.executor import RayActors
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import this file
    ex = RayActors("auto", 2)
    try:
        out = list(ex.map_ordered(_slow_when_even, [c for c in range(14) if c != 7]))
        assert [c for c, _ in out] == [c for c in range(14) if c != 7]
        assert len({pid for _, pid in out}) == 2                     # both actors took chunks
        with pytest.raises(BadInput, match="bad input /data/a.wav: cannot be read as audio"):
            list(ex.map_ordered(_slow_when_even, range(10)))
    finally:
        ex.close()


def _exit_on(marker_dir: str, chunk: list):
    """Chunks named ``once-*`` lose their worker process the first time they run (a marker file says it
    happened), ``always-*`` every time: ``os._exit`` ends the process as a SIGKILL or an OOM kill would."""
    first = chunk[0]
    marker = Path(marker_dir) / first
    if first.startswith("always-") or (first.startswith("once-") and not marker.exists()):
        marker.touch()
        os._exit(1)
    time.sleep(0.02)
    return first


def test_a_lost_worker_costs_one_line_its_chunks_run_again_and_results_stay_in_order(cluster, tmp_path, capsys):
    from functools import partial

    from synth.executor import RayActors
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    chunks = [[f"ok-{k}"] for k in range(3)] + [["once-3"]] + [[f"ok-{k}"] for k in range(4, 10)]
    ex = RayActors("auto", 2)
    try:
        assert list(ex.map_ordered(partial(_exit_on, str(tmp_path)), chunks)) == [c[0] for c in chunks]
        assert ex.lost_workers == 1
    finally:
        ex.close()
    lost = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ray: lost a worker")]
    assert len(lost) == 1 and "its worker process has died" in lost[0], lost


@pytest.mark.slow
def test_a_chunk_that_loses_every_worker_it_runs_on_stops_the_build_in_one_line(cluster, tmp_path, capsys):
    from functools import partial

    from synth.errors import SynthError
    from synth.executor import MAX_LOSSES, RayActors
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ex = RayActors("auto", 2)
    try:
        with pytest.raises(SynthError, match=f"ray: the chunk starting at item always-2 lost its worker {MAX_LOSSES} "
                                             r"times \(last: pid \d+ on .*: its worker process has died\); stopping\. "
                                             "Finished items are kept: rerun the same command to resume"):
            list(ex.map_ordered(partial(_exit_on, str(tmp_path)), [["ok-0"], ["ok-1"], ["always-2", "x"], ["ok-3"]]))
    finally:
        ex.close()
    assert sum(line.startswith("ray: lost a worker") for line in capsys.readouterr().err.splitlines()) == MAX_LOSSES
