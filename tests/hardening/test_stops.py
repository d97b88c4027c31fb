"""Clean stops: SIGINT / SIGTERM end a build with one line and exit 130 / 143, no worker outlives the
build (also when only the main process is killed), and the rerun finishes byte-identical to a clean build.
No path through the CLI ends in a traceback unless --debug asks for it."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth import cli
from synth.validate import validate_set
from synth.writer.journal import count as journaled

from helpers import CORPUS, REPO

ARGS = [sys.executable, "-m", "synth.cli", "build", "n_items=40", "room=none", "workers=2", f"sources.root={CORPUS}"]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc, so nothing to install)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo += kids
    return out


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted((d / "audio").iterdir())} | {
        "manifest.jsonl": (d / "manifest.jsonl").read_bytes(), "segments.rttm": (d / "segments.rttm").read_bytes()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "set"
    subprocess.run(ARGS + [f"out_dir={out}"], cwd=REPO, check=True, capture_output=True)
    return out


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_stop_mid_build_then_rerun_is_byte_identical(tmp_path, clean, sig, code):
    out = tmp_path / "set"
    proc = subprocess.Popen(ARGS + [f"out_dir={out}"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.time() + 180
    while journaled(out) < 5:
        assert time.time() < deadline and proc.poll() is None, "the build ended before 5 items were written"
        time.sleep(0.02)
    workers = descendants(proc.pid)
    assert len(workers) >= 2
    proc.send_signal(sig)  # the main process only, as `kill <pid>` would
    assert proc.wait(timeout=120) == code
    err = proc.stderr.read().strip()
    if sig != signal.SIGKILL:
        n = journaled(out)
        assert err.splitlines() == [f"interrupted: {n} of 40 items written; rerun the same command to resume"]
        assert 5 <= n < 40
    deadline = time.time() + 10  # a killed parent's workers get SIGKILL from the kernel (PR_SET_PDEATHSIG)
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.05)
    assert [p for p in workers if alive(p)] == [], "worker processes outlived the build"
    assert not (out / "manifest.jsonl").exists()

    r = subprocess.run(ARGS + [f"out_dir={out}"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert tree(out) == tree(clean) and validate_set(out) == []
    assert not list(out.rglob(".*.tmp"))


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    """The wrapper around every command: a command that fails in an unplanned way (here a module whose
    main() divides by zero) gives one line and exit 1; --debug anywhere in argv adds the traceback."""
    (tmp_path / "broken_cmd.py").write_text("def main(argv):\n    return 1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "broken", ("broken_cmd", "a command with a bug"))
    assert cli.main(["broken"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["internal error: ZeroDivisionError: division by zero; rerun with --debug for the "
                                "traceback and report it"]
    assert cli.main(["--debug", "broken"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "1 / 0" in err and err.splitlines()[-1].startswith("internal error:")


@pytest.mark.parametrize("args", [["build", "n_items=x"], ["render", "/nonexistent/manifest.jsonl",
                                                           "--out", "/tmp/x"], ["validate", "/nonexistent"]])
def test_cli_failures_never_show_a_traceback(args):
    r = subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=REPO, capture_output=True, text=True)
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr + r.stdout


def test_bad_input_raised_in_a_worker_reaches_the_cli_whole():
    """A file that goes bad while a build runs is found by a worker; its one-line error must survive the
    trip to the build process (it used to arrive as "BrokenProcessPool")."""
    from synth.errors import BadInput
    from synth.executor import ProcessPool

    with pytest.raises(BadInput) as e:
        with ProcessPool(2) as pool:
            list(pool.map_ordered(_fail_like_a_changed_source, ["/data/a.wav"]))
    assert str(e.value) == ("bad input /data/a.wav: cannot be read as audio; "
                            "fix or remove the file, or set on_bad_input=skip")


def _fail_like_a_changed_source(path):
    from synth.errors import BadInput
    raise BadInput(path, "cannot be read as audio")


def test_an_interrupt_during_an_in_memory_encode_is_delivered_after_it(monkeypatch):
    """libsndfile writes an in-memory FLAC through Python callbacks, and cffi prints and drops an exception
    raised in one: an interrupt landing there was lost (the build ran on, exit 0) or broke the encode
    (exit 1). It is now held until the encode ends, then raised, and the encoded file is whole."""
    import io
    import types

    import numpy as np
    import soundfile as sf

    from synth import audio
    from synth.stops import Interrupted, signals_interrupt

    class InterruptedWhileWriting(io.BytesIO):
        def write(self, data):
            if not getattr(self, "sent", False):
                self.sent = True
                signal.raise_signal(signal.SIGINT)  # its handler runs inside libsndfile's callback
            return super().write(data)

    buffers = []
    monkeypatch.setattr(audio, "io", types.SimpleNamespace(
        BytesIO=lambda: buffers.append(InterruptedWhileWriting()) or buffers[-1]))
    x = 0.1 * np.sin(np.arange(16000) / 5.0)
    with pytest.raises(Interrupted):
        with signals_interrupt():
            audio.encode_audio(x, 16000, "flac", {"comment": "synthetic=true"})
            pytest.fail("the interrupt was swallowed")
    y, sr = sf.read(io.BytesIO(buffers[0].getvalue()))
    assert sr == 16000 and len(y) == 16000 and np.abs(y - x).max() < 1e-4   # the file it was writing is whole
