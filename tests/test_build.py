"""End-to-end builds on the real corpus: determinism, re-rendering, physical checks, resume, validation."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.audio import active_speech_level, power_db
from synth.rerender import rerender
from synth.validate import validate_set
from synth.writer.journal import count as journaled

from helpers import CORPUS, REPO, build_set, manifest

COMMON = ("n_items=12", "noise=recorded_varying", "room=simulated", "room.p=1.0", "level.clipping.p=0.3")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    one = build_set(root / "w1", *COMMON, "workers=1", "output.stems=true")
    two = build_set(root / "w2", *COMMON, "workers=2", "output.stems=true")
    return one, two


def files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_workers_1_and_2_are_byte_identical(built):
    one, two = built
    a, b = files(one), files(two)
    a.pop("config.yaml"), b.pop("config.yaml")  # records workers and out_dir, which differ by design
    assert a.keys() == b.keys() and len([k for k in a if k.startswith("audio/")]) == 12
    assert [k for k in a if a[k] != b[k]] == []


def test_render_from_manifest_is_bit_exact(built, tmp_path):
    one, _ = built
    rerender(one / "manifest.jsonl", tmp_path / "again")
    for it in manifest(one):
        assert (tmp_path / "again" / it["audio_filepath"]).read_bytes() == (one / it["audio_filepath"]).read_bytes()
    assert (tmp_path / "again" / "manifest.jsonl").read_bytes() == (one / "manifest.jsonl").read_bytes()


def test_snr_measured_from_stems_matches_recorded(built):
    one, _ = built
    for it in manifest(one):
        speech, sr = sf.read(one / "stems" / it["id"] / "speech_A.flac", dtype="float32")
        noise, _ = sf.read(one / "stems" / it["id"] / "add_noise_mono.flac", dtype="float32")
        measured = active_speech_level(speech, sr).level_dbov - power_db(noise)
        assert abs(measured - it["conditions"]["snr_db"]) < 0.5, it["id"]


def test_rooms_are_measured_and_near_the_requested_rt60(built):
    one, _ = built
    for it in manifest(one):
        c = it["conditions"]
        assert abs(c["rt60_s"] - c["rt60_target_s"]) / c["rt60_target_s"] < 0.2
        assert it["slice"]["rt60_bin"] != "dry" and np.isfinite(c["drr_db"])


def test_set_validates_and_is_labeled_synthetic(built):
    one, _ = built
    assert validate_set(one) == []
    card = json.loads((one / "card.json").read_text())
    assert card["synthetic"] is True and "SYNTHETIC" in (one / "card.md").read_text().splitlines()[2]
    assert any("CC-BY-4.0" in s["license"] for s in card["sources"])
    assert card["histograms"]["snr_db"]["n"] == 12 and card["generator"]["version"]
    rttm = (one / "segments.rttm").read_text().splitlines()
    assert len(rttm) == sum(len(it["segments"]) for it in manifest(one))
    for it in manifest(one):
        assert it["synthetic"] is True and it["text"].strip()
        with sf.SoundFile(one / it["audio_filepath"]) as f:
            assert "synthetic=true" in f.comment
        assert any(k == "clipped_fraction" for k in it["conditions"]) == any(
            e["name"] == "clipping" and e["params"].get("applied", True) for e in it["recipe"]["legs"][0]["effects"])


def test_validate_finds_tampering_and_missing_files(built, tmp_path):
    one, _ = built
    import shutil
    d = tmp_path / "copy"
    shutil.copytree(one, d)
    items = manifest(d)
    data, sr = sf.read(d / items[0]["audio_filepath"])
    sf.write(d / items[0]["audio_filepath"], data * 0.5, sr)
    (d / items[1]["audio_filepath"]).unlink()
    problems = validate_set(d)
    assert any("hash differs" in p for p in problems) and any("missing" in p for p in problems)


def test_rebuilding_into_a_set_with_another_config_is_refused(built):
    one, _ = built
    from synth.errors import ConfigError
    with pytest.raises(ConfigError, match="another config"):
        build_set(one, *COMMON, "workers=1", "output.stems=true", "seed=5")


def test_killed_build_resumes_with_nothing_missing_or_duplicated(tmp_path):
    """A real SIGKILL part-way, then the same command again: every item present once, identical bytes."""
    args = [sys.executable, "-m", "synth.cli", "build", "n_items=60", f"sources.root={CORPUS}", "room=none"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(args + [f"out_dir={killed}"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if journaled(killed) >= 10:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    n_before = journaled(killed)
    assert 10 <= n_before < 60, "the kill must land part-way through the build"
    assert [p.name for p in (killed / ".parts").iterdir()] == ["run-0.jsonl"]  # one journal, not a file per item
    assert not (killed / "manifest.jsonl").exists()
    subprocess.run(args + [f"out_dir={killed}"], cwd=REPO, check=True, capture_output=True)
    assert not list(killed.rglob(".*.tmp"))    # writes cut off by the kill are swept, not left beside the set
    clean = tmp_path / "clean"
    subprocess.run(args + [f"out_dir={clean}"], cwd=REPO, check=True, capture_output=True)
    ids = [it["id"] for it in manifest(killed)]
    assert len(ids) == 60 == len(set(ids))
    assert sorted(p.name for p in (killed / "audio").iterdir()) == sorted(p.name for p in (clean / "audio").iterdir())
    assert (killed / "manifest.jsonl").read_bytes() == (clean / "manifest.jsonl").read_bytes()
    assert validate_set(killed) == []


def test_rerun_sweeps_writes_cut_off_mid_file(built, tmp_path):
    """What a kill during write_audio leaves behind (a temp file never renamed) is removed by the rerun."""
    import shutil
    d = tmp_path / "set"
    shutil.copytree(built[0], d)
    stale = d / "audio" / ".st-000003.flac.x1y2.tmp"
    stale.write_bytes(b"half a flac")
    assert any("unfinished temp" in p for p in validate_set(d))
    build_set(d, *COMMON, "workers=1", "output.stems=true")
    assert not stale.exists() and validate_set(d) == []
