"""A set is one thing: one config and one set of sources per out_dir, one build at a time, no item id or
path leading out of it, and write failures (a file, no permission, a full disk) as one line."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth.cli import compose_config
from synth.errors import SynthError
from synth.outdir import STAMP, claim, lock
from synth.plan import make_plan
from synth.validate import validate_set
from synth.writer.journal import count as journaled

from helpers import CORPUS, REPO, build_set, manifest


def synth(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, **kw)


def one_line(r: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr.strip()


def tiny_corpus(folder: Path) -> Path:
    """Five utterances and two noise files of the real corpus, listed by absolute path (nothing copied)."""
    rows = [json.loads(l) for l in (CORPUS / "manifest.jsonl").read_text().splitlines() if l.strip()]
    keep = [r for r in rows if r["kind"] == "speech"][:5] + [r for r in rows if r["kind"] == "noise"][:2]
    folder.mkdir(parents=True)
    (folder / "manifest.jsonl").write_text("".join(json.dumps({**r, "path": str(CORPUS / r["path"])}) + "\n"
                                                   for r in keep))
    return folder


def wait_for_parts(out: Path, n: int, proc: subprocess.Popen) -> None:
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if journaled(out) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"the build did not write {n} items (exit code {proc.poll()})")


def test_resume_with_another_sources_root_is_refused(tmp_path):
    root = tiny_corpus(tmp_path / "tiny")
    out = tmp_path / "set"
    args = [sys.executable, "-m", "synth.cli", "build", "n_items=40", "room=none", f"out_dir={out}"]
    proc = subprocess.Popen(args + [f"sources.root={root}"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_parts(out, 3, proc)
    proc.send_signal(signal.SIGINT)
    rc = proc.wait(timeout=120)
    assert rc == 130, proc.stderr.read()[-3000:]
    assert json.loads((out / STAMP).read_text())["sources_root"] == str(root)

    r = synth("build", "n_items=40", "room=none", f"out_dir={out}", f"sources.root={CORPUS}")
    line = one_line(r)
    assert r.returncode == 2 and str(root) in line and str(CORPUS) in line and f"sources.root={root}" in line
    assert not (out / "manifest.jsonl").exists()

    r = synth("build", "n_items=40", "room=none", f"out_dir={out}", f"sources.root={root}")
    assert r.returncode == 0, r.stderr
    items = manifest(out)
    assert len(items) == 40 and validate_set(out) == []
    assert {s["source_speaker"] for it in items for s in it["segments"]} <= {
        json.loads(l)["speaker"] for l in (root / "manifest.jsonl").read_text().splitlines() if "speech" in l}


def test_a_build_into_an_out_dir_another_process_is_building_is_one_refusal(tmp_path):
    """The lock a running build holds (a real flock, taken here) refuses a second build in one line; once it is
    released the same command builds the set. (Two racing builds made this flaky: on a loaded machine the first
    could finish before the second started, and the second then just found a finished set.)"""
    out = tmp_path / "set"
    args = [sys.executable, "-m", "synth.cli", "build", "n_items=4", "room=none", f"sources.root={CORPUS}",
            f"out_dir={out}"]
    with lock(out):
        refused = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2, refused.stderr
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert line.startswith(f"out_dir {out} is being built by another synth process (pid {os.getpid()})")
    assert "wait for it or choose another out_dir" in line
    assert not any(p.suffix == ".flac" for p in out.rglob("*"))  # the refused build wrote nothing
    subprocess.run(args, cwd=REPO, check=True, capture_output=True, timeout=300)
    assert validate_set(out) == [] and len(manifest(out)) == 4
    assert not (out / ".synth.lock").exists()  # released with the build


def test_out_dir_stamped_but_without_items_is_taken_over(tmp_path, capsys):
    """A build that failed before its first item was written does not block the fixed rerun."""
    out = tmp_path / "set"
    cfg = compose_config([f"out_dir={out}", f"sources.root={CORPUS}", "n_items=3", "room=none", "seed=1"])
    plan = make_plan(cfg)
    with pytest.raises(RuntimeError):
        with claim(out, plan, ["st-000000"]):
            (out / "audio").mkdir()
            (out / "audio" / "st-000000.flac").write_bytes(b"cut off before its manifest line")
            raise RuntimeError("the first item failed to render")
    assert (out / STAMP).exists() and not (out / ".synth.lock").exists()
    build_set(out, "n_items=3", "room=none", "seed=2")
    assert "holds no finished item yet; taking it over" in capsys.readouterr().out
    assert validate_set(out) == [] and len(manifest(out)) == 3
    with pytest.raises(SynthError, match="another config"):  # with items written, it is a set
        build_set(out, "n_items=3", "room=none", "seed=3")


def test_id_prefix_leading_out_of_out_dir_is_refused(tmp_path):
    out = tmp_path / "a" / "b" / "set"
    r = synth("build", "n_items=2", "room=none", f"sources.root={CORPUS}", f"out_dir={out}", "id_prefix=../../x")
    line = one_line(r)
    assert r.returncode == 2 and "'../../x-000000'" in line and "id_prefix" in line
    assert list(tmp_path.rglob("*")) == []


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    return build_set(tmp_path_factory.mktemp("small") / "set", "n_items=2", "room=none", "output.stems=true")


def tampered(small_set: Path, folder: Path, edit) -> Path:
    d = folder / "tampered"
    shutil.copytree(small_set, d)
    items = manifest(d)
    edit(items[1])
    (d / "manifest.jsonl").write_text("".join(json.dumps(it) + "\n" for it in items))
    return d / "manifest.jsonl"


def test_render_with_a_tampered_id_is_refused(small_set, tmp_path):
    m = tampered(small_set, tmp_path, lambda it: it.update(id="../../escaped"))
    out = tmp_path / "re" / "out"
    r = synth("render", m, "--out", out)
    line = one_line(r)
    assert r.returncode == 2 and str(m) in line and "'../../escaped'" in line
    assert not (tmp_path / "re").exists() and not list(tmp_path.rglob("escaped*"))


def test_render_with_a_tampered_leg_name_writes_nothing_outside(small_set, tmp_path):
    m = tampered(small_set, tmp_path, lambda it: it["recipe"]["legs"][0].update(name="/../../../../escaped"))
    out = tmp_path / "re" / "out"
    r = synth("render", m, "--out", out)
    line = one_line(r)
    assert r.returncode == 2 and "outside out_dir" in line and "escaped" in line
    assert not list(tmp_path.rglob("*escaped*"))


def test_out_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("not a folder")
    for out, needle in ((f, f"out_dir={f} is a file"), (f / "sub", f"cannot create {f / 'sub'}")):
        r = synth("build", "n_items=1", "room=none", f"sources.root={CORPUS}", f"out_dir={out}")
        assert r.returncode == 2 and one_line(r).startswith(needle)
    assert f.read_text() == "not a folder"


def test_unwritable_out_dir(tmp_path):
    """chmod 0o500 for a user; root ignores permissions, so as root the folder is made immutable
    (chattr +i), which refuses root too."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(ro)], capture_output=True).returncode != 0:
            pytest.skip("running as root and chattr +i is not permitted here: no way to make a folder unwritable")
        undo = ["chattr", "-i", str(ro)]
    else:
        ro.chmod(0o500)
        undo = ["chmod", "700", str(ro)]
    try:
        r = synth("build", "n_items=1", "room=none", f"sources.root={CORPUS}", f"out_dir={ro / 'set'}")
    finally:
        subprocess.run(undo, check=True)
    line = one_line(r)
    assert r.returncode == 2 and line.startswith(f"cannot write {ro / 'set'}") and "choose an out_dir" in line


def test_full_disk_is_one_line(tmp_path):
    """A real full file system: a 64 kB tmpfs (needs root and permission to mount)."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root): no full file system to write to")
    try:
        r = synth("build", "n_items=4", "room=none", f"sources.root={CORPUS}", f"out_dir={small / 'set'}")
    finally:
        subprocess.run(["umount", str(small)], check=True)
    line = one_line(r)
    assert r.returncode == 2 and line.startswith("no space left on the device while writing")
    assert f"out_dir={small / 'set'}" in line and "rerun the same command to resume" in line


@pytest.mark.parametrize("where", ["/proc/synth-test-x", "/proc/synth-test/a/set", "/sys/synth-test-x", "read-only"])
def test_an_out_dir_that_cannot_be_created_anywhere_is_one_line(tmp_path, where):
    """procfs refuses new folders with ENOENT, sysfs with EPERM, a read-only mount with EROFS: one line that
    names the out_dir and says to choose another, exit 2 (ENOENT was an 'internal error: FileNotFoundError')."""
    if where == "read-only":
        ro = tmp_path / "ro"
        ro.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)]
        if subprocess.run(mount, capture_output=True).returncode:
            pytest.skip("cannot mount a read-only tmpfs here (needs root)")
        where = str(ro / "set")
    try:
        r = synth("build", "n_items=1", "room=none", f"sources.root={CORPUS}", f"out_dir={where}")
    finally:
        if where.startswith(str(tmp_path)):
            subprocess.run(["umount", str(tmp_path / "ro")], check=True)
    line = one_line(r)
    assert r.returncode == 2 and f"out_dir={where}" in line and "choose an out_dir" in line, line


def test_an_export_out_under_proc_is_one_line(tmp_path):
    built = build_set(tmp_path / "set", "n_items=1", "room=none", "noise=none")
    r = synth("export", built, "--to", "hf", "--out", "/proc/synth-test-x")
    line = one_line(r)
    assert r.returncode == 2 and "--out=/proc/synth-test-x" in line and "choose an --out" in line, line


@pytest.mark.parametrize("cmd", [["fit", CORPUS / "telephone/audio", "--out", "/proc/synth-test-x/p.yaml"],
                                 ["compare", CORPUS / "telephone/audio", CORPUS / "noise", "--out", "/proc/synth-test-x"]])
def test_an_output_path_that_cannot_be_made_is_one_line_in_every_command(cmd):
    """Commands without their own out_dir check (fit, compare): a path error is one line naming the path."""
    r = synth(*cmd)
    line = one_line(r)
    assert r.returncode == 2 and "/proc/synth-test-x" in line and "internal error" not in line, line
