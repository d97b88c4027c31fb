"""Config values are validated where they are read: NaN/inf, rates outside 8-192 kHz, negative durations,
probabilities outside [0, 1], reversed ranges, clips and histogram edges, non-numbers. Each is exit 2 with
one line naming the key. And the crossfade longer than the noise file no longer hangs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from corpus_kit import NOISE_ROW, assert_one_line_error, cli, cli_here, write_corpus, write_wav
from helpers import CORPUS, REPO

CONV = "scenario=conversation"
# (overrides, what the one line must name)
CASES = {
    "snr_nan": (["noise.snr_db=nan"], "snr_db=nan"),
    "snr_inf": (["noise.snr_db=inf"], "snr_db=inf"),
    "snr_range_nan": (["noise.snr_db=[0,nan]"], "snr_db=[0, nan]"),
    "snr_reversed": (["noise.snr_db=[20,0]"], "snr_db=[20, 0]: uniform range [20.0, 0.0]: lower bound must not"),
    "dbov_clip_reversed": (["level.speech_dbov={normal:[-26,2],clip:[-20,-30]}"],
                           "target_dbov={'normal': [-26, 2], 'clip': [-20, -30]}: clip [-20.0, -30.0]: lower bound"),
    "gain_histogram_edges": (["level.gain_db={histogram:{edges:[0,10,5],counts:[1,1]}}"],
                             "gain.gain_db={'histogram'", "edges must be increasing"),
    "snr_text": (["noise.snr_db=loud"], "snr_db='loud': must be a number"),
    "speech_dbov_nan": (["level.speech_dbov=nan"], "target_dbov=nan"),
    "speech_dbov_inf": (["level.speech_dbov=-inf"], "target_dbov=-inf"),
    "rt60_nan": (["room=simulated", "room.rt60_s=nan"], "room.rt60_s=nan"),
    "rt60_reversed": (["room=simulated", "room.rt60_s=[0.9,0.2]"], "room.rt60_s=[0.9, 0.2]"),
    "distance_negative": (["room=simulated", "room.distance_m=-1"], "room.distance_m=-1"),
    "pool_size_nan": (["room=simulated", "room.pool_size=nan"], "room.pool_size=nan"),
    "sample_rate_7": (["sample_rate=7"], "sample_rate=7: must be a rate in Hz from 8000 to 192000"),
    "sample_rate_huge": (["sample_rate=500000"], "sample_rate=500000"),
    "output_rate_7": (["output.sample_rate=7"], "output.sample_rate=7"),
    "output_rate_4k": (["output.sample_rate=4000"], "output.sample_rate=4000"),
    "noise_p_above_1": (["noise.p=1.5"], "add_noise.p=1.5: must be within [0, 1]"),
    "noise_p_nan": (["noise.p=nan"], "add_noise.p=nan"),
    "crossfade_negative": (["++noise.crossfade_s=-0.1"], "crossfade_s=-0.1"),
    "crossfade_nan": (["++noise.crossfade_s=nan"], "crossfade_s=nan"),
    "walk_negative": (["noise.walk_sd_db=-1"], "walk_sd_db=-1"),
    "lead_negative": (["scenario.lead_s=-1"], "scenario.lead_s=-1"),
    "pause_reversed": (["scenario.pause_s=[2,1]"], "scenario.pause_s=[2, 1]"),
    "max_duration_nan": (["scenario.max_duration_s=nan"], "scenario.max_duration_s=nan"),
    "turns_p_interrupt_nan": ([CONV, "scenario.turns.p_interrupt=nan"], "scenario.turns.p_interrupt=nan"),
    "turns_p_overlap_above_1": ([CONV, "scenario.turns.p_overlap=1.5"], "scenario.turns.p_overlap=1.5"),
    "turns_p_switch_reversed": ([CONV, "scenario.turns.p_switch=[0.9,0.1]"], "scenario.turns.p_switch=[0.9, 0.1]"),
    "turns_min_kept_negative": ([CONV, "scenario.turns.min_kept_s=-1"], "scenario.turns.min_kept_s=-1"),
    "turns_icc_one": ([CONV, "scenario.turns.dyad.timing_icc=1.0"], "scenario.turns.dyad.timing_icc=1.0"),
    "backchannel_max_negative": ([CONV, "scenario.backchannel_max_s=-1"], "scenario.backchannel_max_s=-1"),
    "roles_three": ([CONV, "scenario.roles=[a,b,c]"], "scenario.roles="),
    "turns_file_missing": ([CONV, "scenario.turns=/nonexistent/turns.yaml"],
                           "scenario.turns=/nonexistent/turns.yaml: no such file"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_config_value_is_one_line_naming_the_key(tmp_path, name):
    overrides, *needles = CASES[name]
    run = cli if name in ("snr_nan", "sample_rate_7") else cli_here  # two through a real process
    r = run("build", f"out_dir={tmp_path / 'set'}", f"sources.root={CORPUS}", "n_items=2", *overrides)
    assert_one_line_error(r, *needles)
    assert not (tmp_path / "set").exists()  # refused before anything was written


def test_turns_file_that_is_not_a_turns_file(tmp_path):
    p = tmp_path / "profile.yaml"
    p.write_text("noise:\n  snr_db: [5, 15]\n")
    r = cli_here("build", f"out_dir={tmp_path / 'set'}", "n_items=2", CONV, f"scenario.turns={p}")
    assert_one_line_error(r, f"scenario.turns={p}: is not a turns file", "synth fit-turns")


def _short_noise_corpus(tmp_path):
    x = 0.1 * np.random.default_rng(3).standard_normal(3200)  # 0.2 s of noise at 16 kHz
    p = write_wav(tmp_path / "short_noise.wav", x)
    return write_corpus(tmp_path / "c", [], noise=[{"path": str(p), "kind": "noise"}]), x


def test_crossfade_longer_than_the_noise_file_finishes(tmp_path):
    """`++noise.crossfade_s=0.5` with a 0.2 s noise file used to loop forever at 100 % CPU."""
    root, _ = _short_noise_corpus(tmp_path)
    r = cli("build", f"out_dir={tmp_path / 'set'}", f"sources.root={root}", "n_items=2", "room=none",
            "++noise.crossfade_s=0.5", "noise.snr_db=0", timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len((tmp_path / "set" / "manifest.jsonl").read_text().splitlines()) == 2


def test_loop_with_crossfade_wider_than_the_file_is_the_file_repeated(tmp_path):
    """Run in a child with a timeout (the old loop never returned when the fade reached the file's length):
    the output has the asked length, starts with the file, fades at half the file and keeps its power."""
    code = ("import numpy as np, sys\n"
            "from synth.channel.noise import loop_with_crossfade\n"
            "x = np.random.default_rng(3).standard_normal(3200).astype(np.float32)\n"
            "np.save(sys.argv[1], loop_with_crossfade(x, 100, 48000, 8000))\n")
    out = tmp_path / "y.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, check=True, timeout=60)
    y = np.load(out)
    x = np.random.default_rng(3).standard_normal(3200).astype(np.float32)
    assert len(y) == 48000 and np.isfinite(y).all()
    assert np.array_equal(y[:1500], x[100:1600])  # untouched until the fade, clamped to 1600 samples
    t = np.linspace(0.0, np.pi / 2, 1600, dtype=np.float32)
    assert np.allclose(y[1500:3100], x[1600:] * np.cos(t) + x[:1600] * np.sin(t))
    assert 0.8 < np.mean(y ** 2) / np.mean(x ** 2) < 1.2  # equal-power fades


def test_sources_noise_row_with_a_good_crossfade_still_builds(tmp_path):
    """Guard the other side: ordinary values still build (no over-eager validation)."""
    root = write_corpus(tmp_path / "c", [], noise=[NOISE_ROW])
    r = cli_here("build", f"out_dir={tmp_path / 'set'}", f"sources.root={root}", "n_items=2", "room=none",
                 "level.gain_db={normal:[0,2],clip:[-3,3]}", "output.sample_rate=8000", "sample_rate=16000")
    assert r.returncode == 0, r.stderr
