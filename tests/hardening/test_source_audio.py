"""Source audio checked against what its manifest row claims: each bad file is one line naming it (exit 2),
or with on_bad_input=skip a recorded skip and no item built from it. Never a set whose labels are false."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from corpus_kit import (GOOD, GOOD_ROW, NOISE, assert_one_line_error, assert_skipped, build_skipping,
                        cli, cli_here, speech, write_corpus, write_wav)
from helpers import CORPUS

SR = 16000
NOISE2_ROW = {"path": str(CORPUS / "noise/speech_commands_exercise_bike.wav"), "kind": "noise"}


def truncated(tmp):
    """A real WAV cut in half (header still claims the full length); the row keeps duration and transcript."""
    p = tmp / "truncated.wav"
    b = GOOD.read_bytes()
    p.write_bytes(b[: len(b) // 2])
    return speech(p, duration_s=3.88, transcript=GOOD_ROW["transcript"]), p, "the file may be truncated"


def one_sample(tmp):
    return speech(write_wav(tmp / "one.wav", np.array([0.5])), transcript="ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT"), \
        tmp / "one.wav", "at least 0.1 s"


def silent_speech(tmp):
    return speech(write_wav(tmp / "zeros.wav", np.zeros(SR))), tmp / "zeros.wav", "is silent"


def inaudible_speech(tmp):
    """Real speech 100 dB down: samples are not zero, but P.56 finds no speech."""
    x, sr = sf.read(str(GOOD), dtype="float32")
    return speech(write_wav(tmp / "quiet.wav", x * 1e-5, sr)), tmp / "quiet.wav", "no active speech"


def longer_than_claimed(tmp):
    return speech(GOOD, speaker="other", duration_s=1.2), GOOD, "says 1.200 s"


def words_after_end(tmp):
    row = speech(GOOD, speaker="other", duration_s=3.88,
                 words=[{"word": "AUTHOR", "start": 0.2, "end": 0.7}, {"word": "OF", "start": 0.7, "end": 6.5}])
    return row, GOOD, "'OF' ending at 6.500 s"


def silent_noise(tmp):
    return {"path": str(write_wav(tmp / "zero_noise.wav", np.zeros(2 * SR))), "kind": "noise"}, \
        tmp / "zero_noise.wav", "digital silence"


def dither_noise(tmp):
    """Noise at 1e-7 full scale (about -140 dBov): not all zeros, still digital silence."""
    x = 1e-7 * np.random.default_rng(0).standard_normal(2 * SR)
    return {"path": str(write_wav(tmp / "dither.wav", x)), "kind": "noise"}, tmp / "dither.wav", "digital silence"


def noise_shorter_than_claimed(tmp):
    return {"path": str(NOISE), "kind": "noise", "duration_s": 90.0}, NOISE, "says 90.000 s"


CASES = [truncated, one_sample, silent_speech, inaudible_speech, longer_than_claimed, words_after_end,
         silent_noise, dither_noise, noise_shorter_than_claimed]


def _corpus(tmp, case):
    row, bad, needle = case(tmp)
    is_noise = row["kind"] == "noise"
    root = write_corpus(tmp / "c", [] if is_noise else [row], noise=[NOISE2_ROW, row] if is_noise else None)
    return root, bad, needle


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_bad_source_audio_is_one_line_naming_the_file(tmp_path, case):
    root, bad, needle = _corpus(tmp_path, case)
    run = cli if case is truncated else cli_here  # one real process; the rest share this one
    r = run("build", f"out_dir={tmp_path / 'set'}", f"sources.root={root}", "n_items=2", "room=none")
    assert_one_line_error(r, str(bad), needle)
    assert not (tmp_path / "set" / "manifest.jsonl").exists()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_bad_source_audio_is_a_recorded_skip(tmp_path, case):
    root, bad, needle = _corpus(tmp_path, case)
    card, items = build_skipping(tmp_path / "set", root)
    assert_skipped(card, items, str(bad), needle, unused=None if bad in (GOOD, NOISE) else bad)
    used = json.dumps(items)
    if bad == GOOD:  # the file is fine but this row lies about it: its speaker never appears
        assert '"other"' not in used
    if bad == NOISE:
        assert NOISE.name not in used


def test_truncated_file_is_never_labeled_with_its_full_transcript(tmp_path):
    """The truncated copy has the good file's transcript; neither mode yields an item with it on half the audio."""
    row, bad, _ = truncated(tmp_path)
    root = write_corpus(tmp_path / "c", [row])
    card, items = build_skipping(tmp_path / "set", root, "scenario.utterances=1")
    for it in items:
        for t in it["recipe"]["talkers"]:
            assert all(u["path"] != str(bad) for u in t["utterances"])
            # every utterance that carries this transcript lasts what the real file lasts
            full = [u for u in t["utterances"] if u["text"] == GOOD_ROW["transcript"]]
            assert all(abs(u["src_end_s"] - 3.88) < 0.01 for u in full)


def test_a_pool_of_only_silent_noise_is_refused(tmp_path):
    rows = [silent_noise(tmp_path)[0], dither_noise(tmp_path)[0]]
    root = write_corpus(tmp_path / "c", [], noise=rows)
    r = cli_here("build", f"out_dir={tmp_path / 'a'}", f"sources.root={root}", "n_items=2", "room=none")
    assert_one_line_error(r, "zero_noise.wav", "digital silence")
    r = cli_here("build", f"out_dir={tmp_path / 'b'}", f"sources.root={root}", "n_items=2", "room=none",
            "on_bad_input=skip")
    assert_one_line_error(r, "no usable noise files")


@pytest.mark.parametrize("workers", [1, 2])
def test_noise_that_is_silent_where_it_is_drawn_refuses_at_render(tmp_path, workers):
    """0.3 s of noise then 30 s of zeros passes the file check (mean power ~ -40 dBov) but most offsets
    draw silence: the render refuses instead of labeling an SNR it did not add (also from a worker
    process: the error crosses the process boundary intact)."""
    x = np.zeros(int(30.3 * SR))
    x[: int(0.3 * SR)] = 0.1 * np.random.default_rng(1).standard_normal(int(0.3 * SR))
    p = write_wav(tmp_path / "mostly_silent.wav", x)
    root = write_corpus(tmp_path / "c", [], noise=[{"path": str(p), "kind": "noise"}])
    r = cli("build", f"out_dir={tmp_path / 'set'}", f"sources.root={root}", "n_items=8", "room=none",
            "noise.walk_sd_db=0", "noise.bursts_per_min=0", f"workers={workers}")
    assert_one_line_error(r, "mostly_silent.wav", "would be labeled but not heard")
