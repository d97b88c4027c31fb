"""executor=ray on clusters that lose workers: a SIGKILLed actor and a two-node cluster losing its second
node each cost one warning line and the build ends with a set byte-identical to a local build; where the
cluster is (``executor.address``) is said in one line, an unreachable one in one error line.

Every cluster here is private to the test (``RAY_TMPDIR`` under /tmp, token auth off): no test joins or
disturbs a cluster another program runs on this machine."""

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from synth.validate import validate_set
from synth.writer.journal import count as journaled

from helpers import CORPUS, REPO, build_set

ray = pytest.importorskip("ray")

N_ITEMS = 80  # enough that a kill after 8 lands part-way even when the killer is slow to find the actor
ITEMS = (f"n_items={N_ITEMS}", "room=none")
STARTED = re.compile(r"ray: no running cluster found; started a local one with \d+ CPUs for this build")


@pytest.fixture
def ray_env(monkeypatch) -> dict:
    """Environment of a process that sees no cluster but its own: a fresh RAY_TMPDIR (short: Ray's socket
    paths live there), no RAY_ADDRESS, no token auth (a loopback cluster; nothing written to ~/.ray)."""
    tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", tmp)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield dict(os.environ)
    subprocess.run(["rm", "-rf", tmp], check=False)


@pytest.fixture(scope="module")
def local_set(tmp_path_factory) -> Path:
    return build_set(tmp_path_factory.mktemp("local") / "set", *ITEMS, "workers=2")


def same_set(a: Path, b: Path) -> None:
    """The same audio (sha256 per file) and the same manifest, and ``b`` validates (no partial writes left)."""
    def digest(d: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (d / "audio").iterdir()}
    assert digest(a) == digest(b) and len(digest(a)) == N_ITEMS
    assert (a / "manifest.jsonl").read_bytes() == (b / "manifest.jsonl").read_bytes()
    assert validate_set(b) == []


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line), from /proc."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                out[int(d.name)] = parent, (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError, ValueError):
                continue
    return out


def below(pid: int) -> list[int]:
    """Every live process under ``pid``."""
    procs = processes()
    out, todo = [], [pid]
    while todo:
        up = todo.pop()
        kids = [c for c, (parent, _) in procs.items() if parent == up]
        out += kids
        todo += kids
    return out


def actors_below(pid: int) -> list[int]:
    """The Ray actors (synth's TaskRunner; Ray names its workers' processes after their class) under ``pid``."""
    procs = processes()
    return [p for p in below(pid) if procs.get(p, (0, ""))[1].startswith("ray::TaskRunner")]


def start_build(out: Path, env: dict, *overrides: str):
    args = [sys.executable, "-m", "synth.cli", "build", *ITEMS, f"sources.root={CORPUS}", "executor=ray",
            f"out_dir={out}", *overrides]
    log = out.parent / "build.err"
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                            start_new_session=True), log


def wait_for_items(out: Path, proc, n: int) -> None:
    """Until ``n`` items are journaled: a stop lands part-way whatever the machine's load."""
    deadline = time.time() + 300
    while journaled(out) < n:
        assert time.time() < deadline and proc.poll() is None, "the build ended before the worker was lost"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_killed_actor_costs_one_line_and_the_set_is_the_local_sets(tmp_path, ray_env, local_set):
    """address=auto with no cluster starts one and says so; SIGKILL of one of its two actors once 8 items
    are journaled (what an OOM-killed or preempted node does to a worker): exit 0, one warning line, the
    same bytes as a local build."""
    out = tmp_path / "set"
    proc, log = start_build(out, ray_env)
    try:
        wait_for_items(out, proc, 8)
        actors = actors_below(proc.pid)
        assert len(actors) == 2, actors
        os.kill(actors[0], signal.SIGKILL)
        at_kill = journaled(out)
        assert proc.wait(timeout=300) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert at_kill < N_ITEMS, "the kill must land part-way through the build"
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and STARTED.fullmatch(lines[0]), lines  # no Ray log line, no token-auth warning
    assert lines[1].startswith(f"ray: lost a worker (pid {actors[0]} on ") and "unfinished chunk" in lines[1]
    same_set(local_set, out)


@pytest.mark.slow
def test_b_a_two_node_cluster_loses_its_second_node(tmp_path, ray_env, local_set):
    """A head and a worker node of one CPU each (ray.cluster_utils.Cluster); address=auto joins it. Once 8
    items are journaled the worker node dies whole (its processes SIGKILLed, the node removed): the
    head's actor finishes the build (the replacement finds no free CPU), one warning line, same bytes."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": 100 * 2 ** 20,
                                                            "include_dashboard": False})
    address = cluster.address  # recorded under RAY_TMPDIR, where address=auto finds it
    try:
        node = cluster.add_node(num_cpus=1, object_store_memory=100 * 2 ** 20)
        out = tmp_path / "set"
        proc, log = start_build(out, ray_env)
        try:
            wait_for_items(out, proc, 8)
            raylet = node.all_processes["raylet"][0].process.pid
            on_node = below(raylet)
            assert len(actors_below(raylet)) == 1
            for p in on_node:  # the machine goes down: its workers with it, not after its raylet
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            cluster.remove_node(node, allow_graceful=False)
            at_loss = journaled(out)
            assert proc.wait(timeout=300) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        cluster.shutdown()
    assert at_loss < N_ITEMS, "the node must be lost part-way through the build"
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == f"ray: joined the cluster at {address} (2 CPUs)", lines
    assert lines[1].startswith("ray: lost a worker (pid ") and "unfinished chunk" in lines[1]
    same_set(local_set, out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("scheme", ["ray://", ""], ids=["ray_client", "cluster_address"])
def test_d_an_unreachable_address_is_one_line_naming_it(tmp_path, ray_env, scheme):
    """Nothing listens on the port: one line naming the address and what to check, exit 2, within seconds
    (Ray's own client retries for ~30 s and then says only "ray client connection timeout")."""
    address = f"{scheme}127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "synth.cli", "build", "n_items=2", f"sources.root={CORPUS}",
                          "executor=ray", f"executor.address={address}", f"out_dir={tmp_path / 'set'}"],
                         cwd=REPO, env=ray_env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr
    line = run.stderr.strip()
    assert line.startswith(f"executor.address={address}: ") and "connection refused" in line
    assert ("--ray-client-server-port" in line) == (scheme == "ray://")
    assert time.monotonic() - t0 < 25


@pytest.mark.slow
def test_sigterm_stops_a_ray_build_in_one_line(tmp_path, ray_env):
    """Ray's driver installs a SIGTERM handler that exits at once (exit 15 and a native stack dump);
    synth's clean stop must stay in charge: exit 143 and the one "interrupted" line, nothing from Ray."""
    out = tmp_path / "set"
    proc, log = start_build(out, ray_env, "executor.address=local")
    try:
        wait_for_items(out, proc, 4)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 143
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("ray: started a private local cluster with "), lines
    assert re.fullmatch(rf"interrupted: \d+ of {N_ITEMS} items written; rerun the same command to resume", lines[1])
