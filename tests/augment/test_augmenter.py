"""The Augmenter on real corpus speech: deterministic per (seed, epoch, key) in any process, conditions that
match the audio, input length kept and codec chains time-aligned."""

import hashlib
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import correlate

from synth.audio import active_speech_level, load, power_db
from synth.augment import Augmenter
from synth.errors import BadInput, ConfigError, SynthError
from synth.extras import require

from helpers import CORPUS, REPO

SPEECH = CORPUS / "speech/librispeech_2412/2412-153948-0000.flac"
BASE = [f"sources.root={CORPUS}"]
# room, noise, level, clipping (always on here), then a phone leg: band limit + AMR-NB
CALL = [*BASE, "room.pool_size=3", "channel=amr_nb_12k2", "level.clipping.p=1.0"]

SCRIPT = """
import hashlib, sys
from synth.audio import load
from synth.augment import Augmenter
aug = Augmenter.from_config(sys.argv[2:], seed=7)
x = load(sys.argv[1], 16000)[:32000]
print(hashlib.sha256(aug(x, 16000, "utt-1", epoch=3).samples.tobytes()).hexdigest())
"""


@pytest.fixture(scope="module")
def speech():
    return load(SPEECH, 16000)[:32000]  # 2 s of read speech


@pytest.fixture(scope="module")
def call_aug():
    return Augmenter.from_config(CALL, seed=7)


def digest(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


def test_same_key_and_epoch_give_identical_audio_and_another_epoch_another_draw(call_aug, speech):
    a = call_aug(speech, 16000, "utt-1", epoch=3)
    b = call_aug(speech, 16000, "utt-1", epoch=3)
    copy = pickle.loads(pickle.dumps(call_aug))  # what a DataLoader worker gets
    assert copy._ctx is None
    c = copy(speech, 16000, "utt-1", epoch=3)
    assert digest(a.samples) == digest(b.samples) == digest(c.samples) and a.recipe == c.recipe
    other = call_aug(speech, 16000, "utt-1", epoch=4)
    assert other.recipe["leg"]["effects"][0]["params"] != a.recipe["leg"]["effects"][0]["params"]
    assert np.max(np.abs(other.samples - a.samples)) > 1e-3
    assert a.conditions["augmented"] and {"rt60_s", "snr_db", "clipped_fraction", "codec"} <= set(a.conditions)


def test_the_recipe_replays_the_same_audio_from_json(call_aug, speech):
    r = call_aug(speech, 16000, "utt-2", epoch=1)
    recipe = json.loads(json.dumps(r.recipe))
    assert np.array_equal(call_aug.apply(speech, recipe).samples, r.samples)        # with the plan's effects
    foreign = {**recipe, "generator": {}}                                             # effects rebuilt from configs
    assert np.array_equal(call_aug.apply(speech, foreign).samples, r.samples)


def test_identical_in_another_process(call_aug, speech):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(SPEECH), *CALL], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(call_aug(speech, 16000, "utt-1", epoch=3).samples)


def test_snr_in_conditions_is_the_snr_of_the_added_noise(speech):
    aug = Augmenter.from_config([*BASE, "room=none", "level.clipping.p=0"], seed=1)
    for k in range(4):
        r = aug(speech, 16000, f"utt-{k}")
        noise = r.stems["add_noise_mono"][0]
        measured = active_speech_level(r.samples - noise, 16000).level_dbov - power_db(noise)
        assert abs(measured - r.conditions["snr_db"]) < 0.5, (k, measured, r.conditions["snr_db"])
        assert power_db(noise) > -80  # the noise is really there


@pytest.mark.parametrize("channel,codec", [("g711_ulaw", "g711_ulaw"), ("amr_nb_12k2", "amr_nb")])
def test_codec_chain_keeps_length_and_alignment_within_1_ms(channel, codec, speech):
    aug = Augmenter.from_config([*BASE, f"channel={channel}", "room=none", "noise=none", "level.clipping.p=0"])
    r = aug(speech, 16000, "utt-1")
    assert r.samples.shape == speech.shape and r.sample_rate == 16000
    assert r.conditions["channel_sr_hz"] == 8000 and r.conditions["codec"] == codec
    c = correlate(r.samples, speech, mode="full", method="fft")
    lag = int(np.argmax(np.abs(c))) - (len(speech) - 1)
    assert abs(lag) <= 16, lag  # 16 samples = 1 ms at 16 kHz
    spec = np.abs(np.fft.rfft(r.samples)) ** 2   # narrowband: nothing above 4 kHz once back at 16 kHz
    f = np.fft.rfftfreq(len(r.samples), 1 / 16000)
    assert spec[f > 4200].sum() < 1e-4 * spec[f < 3400].sum()


def test_multichannel_input_gets_one_draw_on_every_channel(call_aug, speech):
    x = np.stack([speech, speech])
    r = call_aug(x, 16000, "utt-1", epoch=3)
    assert r.samples.shape == x.shape
    assert np.array_equal(r.samples[0], r.samples[1])
    assert np.array_equal(r.samples[0], call_aug(speech, 16000, "utt-1", epoch=3).samples)


def test_overall_p_applies_the_chain_to_that_share_and_otherwise_returns_the_input(speech):
    aug = Augmenter.from_config([*BASE, "room=none"], p=0.3)
    applied = [aug.sample(f"utt-{k}", 0, 16000, 2.0)["applied"] for k in range(400)]
    assert 0.23 < np.mean(applied) < 0.37
    key = f"utt-{applied.index(False)}"
    r = aug(speech, 16000, key)
    assert np.array_equal(r.samples, speech) and r.conditions == {"augmented": False}
    assert r.recipe["applied"] is False and r.recipe["leg"]["effects"] == []
    with pytest.raises(ConfigError, match="p=1.5"):
        Augmenter(aug.plan, p=1.5)


def test_bad_input_and_bad_options_are_one_line_errors(call_aug):
    with pytest.raises(BadInput, match="NaN"):
        call_aug(np.array([0.0, np.nan], dtype=np.float32), 16000, "k")
    with pytest.raises(BadInput, match="shape"):
        call_aug(np.zeros((1, 1, 10), dtype=np.float32), 16000, "k")
    with pytest.raises(ConfigError, match="legs are"):
        Augmenter(call_aug.plan, leg="agent")
    with pytest.raises(ConfigError, match="unknown key"):
        Augmenter.from_config([*BASE, "room=none", "levell.speech_dbov=3"])


def test_a_missing_extra_names_the_extra_and_the_pip_command():
    with pytest.raises(SynthError) as e:
        require("synth_no_such_module", "torch", "synth.augment.AugmentTransform")
    assert "torch extra" in str(e.value) and "pip install torch==2.13.0" in str(e.value) and "\n" not in str(e.value)


def test_profiles_by_name_and_by_file(speech, tmp_path):
    calls = Augmenter.from_config([f"sources.root={CORPUS}"], profile="call_center_narrowband", leg="customer")
    r = calls(speech, 16000, "utt-1")
    assert r.recipe["leg"]["name"] == "customer" and r.conditions["profile"] == "call_center_narrowband"
    assert r.conditions["channel_sr_hz"] == 8000 and r.samples.shape == speech.shape
    path = tmp_path / "quiet_street.yaml"
    path.write_text("level: {speech_dbov: -30.0}\nnoise: {kind: recorded, snr_db: 7.0}\nroom: {kind: none}\n")
    r = Augmenter.from_config([f"sources.root={CORPUS}"], profile=str(path))(speech, 16000, "utt-1")
    assert r.conditions["profile"] == "quiet_street"
    assert r.conditions["speech_level_dbov"] == -30.0 and r.conditions["snr_db"] == 7.0 and "rir" not in r.conditions


def test_null_speech_level_keeps_the_utterances_own_level(speech):
    """level.speech_dbov=null: no talker level stage, so the chain starts from the recording's own level;
    with noise at a fixed SNR the noise follows the utterance's level instead of a drawn target."""
    x = 0.05 * speech
    aug = Augmenter.from_config([*BASE, "room=none", "noise=none", "level.clipping.p=0", "level.speech_dbov=null"])
    r = aug(x, 16000, key="u0")
    assert "speech_level_dbov" not in r.conditions and np.array_equal(r.samples, x)
    noisy = Augmenter.from_config([*BASE, "room=none", "noise=recorded", "noise.snr_db=10", "level.clipping.p=0",
                                   "level.speech_dbov=null"])(x, 16000, key="u0")
    noise = noisy.samples - x
    snr = active_speech_level(x, 16000).level_dbov - power_db(noise)
    assert abs(snr - 10.0) < 0.1 and abs(active_speech_level(x, 16000).level_dbov - (-26.0)) > 10


def test_a_calibrating_recorder_reports_the_level_as_recorded_like_a_build(speech):
    """The recorder stage is render's own (synth.render.record): a recorder that calibrates the level makes
    the item's speech_level_dbov the level as recorded, in the Augmenter as in a build."""
    aug = Augmenter.from_config([*BASE, "room=none", "noise=none", "level.clipping.p=0",
                                 "+channel.recorder=[{name: calibrate_level, target_dbov: -33.0}]"], seed=2)
    out = aug(speech, 16000, "utt-cal")
    assert out.conditions["speech_level_dbov"] == -33.0 and out.conditions["recorder"]["calibration_gain_db"] != 0
    assert abs(active_speech_level(out.samples, 16000).level_dbov + 33.0) < 0.05   # and the audio is at it (dBov)


@pytest.mark.parametrize("root", ["empty", "missing"])
def test_noise_and_rir_folders_alone_make_an_augmenter_without_a_speech_corpus(speech, tmp_path, root):
    """A training team's utterances are in memory; only noise and RIR folders are on disk."""
    (tmp_path / "empty").mkdir()
    aug = Augmenter.from_config([f"sources.root={tmp_path / root}", f"sources.noise={CORPUS / 'noise'}",
                                 f"sources.rir={CORPUS / 'rir'}", "room=measured", "room.p=1.0",
                                 "noise.snr_db=10.0", "level.clipping.p=0"], seed=2)
    assert aug.plan.pools.speech.utterances == [] and len(aug.plan.pools.noise) == 5 and len(aug.plan.pools.rirs) == 9
    for k in range(3):
        r = aug(speech, 16000, f"utt-{k}")
        assert r.conditions["snr_db"] == 10.0 and r.conditions["rir_kind"] == "measured"
        assert (CORPUS / r.conditions["noise"]).parent == CORPUS / "noise"   # drawn from the folder
        noise = r.stems["add_noise_mono"][0]
        measured = active_speech_level(r.samples - noise, 16000).level_dbov - power_db(noise)
        assert abs(measured - 10.0) < 0.5, (k, measured)      # the noise is really there, at its SNR
        dry = np.corrcoef(r.samples - noise, speech)[0, 1]
        assert dry < 0.99                                      # and the room: not the dry utterance
    with pytest.raises(ConfigError, match="no usable noise files"):  # noise wanted, none anywhere: one line
        Augmenter.from_config([f"sources.root={tmp_path / root}", f"sources.rir={CORPUS / 'rir'}"])
