"""Behavior in the Augmenter and RenderedDataset, on real aligned corpus utterances: a restart repeats the
utterance's own opening samples, a filler span holds the bank's real token at the talker's level, labels and
events lie on the longer output's timeline, the chain is drawn for the utterance as heard, the recipe replays
(in another process too), and an utterance without alignments comes out exactly as with behavior=none."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from synth.audio import active_speech_level, load
from synth.augment import Augmenter
from synth.errors import BadInput, ConfigError

from helpers import CORPUS, REPO

SR = 16000
DRY = [f"sources.root={CORPUS}", "room=none", "noise=none", "channel=clean", "level.speech_dbov=null",
       "level.clipping.p=0.0"]
ONLY = ["behavior=spontaneous", "behavior.restart.p=0.0", "behavior.repetition.rate_per_min=0.0",
        "behavior.hesitation.rate_per_min=0.0", "behavior.filler.rate_per_min=0.0"]
# a noisy room, a phone leg with packet loss: the chain after the disfluencies
CHAIN = [f"sources.root={CORPUS}", "room.pool_size=2", "channel=voip_wideband"]
FADE = int(0.01 * SR)

SCRIPT = """
import hashlib, json, sys
from synth.audio import load
from synth.augment import Augmenter
row = json.loads(open(sys.argv[1]).readline())
aug = Augmenter.from_config(sys.argv[2:], seed=3)
r = aug(load(row["audio_filepath"], 16000), 16000, "utt-1", epoch=2, words=row["words"], text=row["text"])
print(hashlib.sha256(r.samples.tobytes()).hexdigest(), json.dumps(r.recipe, sort_keys=True))
"""


@pytest.fixture(scope="module")
def utterances(aligned_speech):
    """(samples, words, text, manifest row) of each aligned corpus utterance of four words or more."""
    rows = [json.loads(l) for l in aligned_speech.read_text().splitlines()]
    return [(load(r["audio_filepath"], SR), r["words"], r["text"], r) for r in rows if len(r["words"]) >= 4]


def digest(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


def check_timeline(r, n_in: int) -> None:
    """Output length = input + the seconds gained; events and words inside it, words in order and verbatim."""
    b = r.recipe["behavior"]
    gained = r.conditions["behavior"]["gained_s"]
    assert abs(r.samples.shape[-1] - (n_in + gained * SR)) <= 2
    assert gained == pytest.approx(b["duration_s"] - n_in / SR, abs=1e-4)
    end = r.samples.shape[-1] / SR
    assert all(0 <= e["start"] < e["end"] <= end + 1e-4 for e in r.events)
    assert all(0 <= w["start"] <= w["end"] <= end + 1e-4 for w in r.words)
    assert all(a["end"] <= c["start"] + 1e-4 for a, c in zip(r.words, r.words[1:]))
    assert [w["word"] for w in r.words] == r.text.split()


def test_a_restart_repeats_the_utterances_opening_samples(utterances):
    aug = Augmenter.from_config([*DRY, *ONLY, "behavior.restart.p=1.0", "behavior.restart.p_partial=0.0"])
    n = 0
    for k, (x, words, text, _) in enumerate(utterances):
        r = aug(x, SR, f"utt-{k}", words=words, text=text)
        check_timeline(r, len(x))
        frag, main = r.recipe["behavior"]["pieces"][:2]
        assert frag["src_start_s"] == 0.0 and main["src_end_s"] == len(x) / SR
        assert main["at_s"] > frag["at_s"] + frag["src_end_s"]  # a pause between false start and the sentence
        # the opening heard twice: the input's samples from the main piece's start to the fragment's cut
        s = int(round(main["src_start_s"] * SR))
        cut = int(round(frag["src_end_s"] * SR)) - FADE
        again = int(round(main["at_s"] * SR))
        assert cut - s > 0.1 * SR
        np.testing.assert_allclose(r.samples[s + FADE: cut], x[s + FADE: cut], atol=1e-6)          # the false start
        np.testing.assert_allclose(r.samples[again + FADE: again + cut - s], x[s + FADE: cut], atol=1e-6)  # again
        last = r.recipe["behavior"]["pieces"][-1]  # the rest of the input, unfaded to its last sample
        a, s1 = int(round(last["at_s"] * SR)), int(round(last["src_start_s"] * SR))
        m = min(len(x) - s1, r.samples.shape[-1] - a)
        assert last["src_end_s"] == len(x) / SR and m >= len(x) - s1 - 2
        np.testing.assert_allclose(r.samples[a + FADE: a + m], x[s1 + FADE: s1 + m], atol=1e-6)
        restart = next(e for e in r.events if e["type"] == "restart")
        assert r.text.split()[: len(restart["words"])] == restart["words"] == text.split()[: len(restart["words"])]
        assert r.text_fluent == text and r.text.endswith(text) and r.text != text
        n += 1
    assert n >= 3


def test_a_filler_span_holds_the_banks_real_token_at_the_talkers_level(utterances, filler_bank):
    aug = Augmenter.from_config([*DRY, *ONLY, f"behavior.fillers={filler_bank}", "behavior.filler.rate_per_min=40.0"])
    checked = 0
    for k, (x, words, text, _) in enumerate(utterances):
        r = aug(x, SR, f"utt-{k}", words=words, text=text)
        check_timeline(r, len(x))
        pieces = [p for p in r.recipe["behavior"]["pieces"] if "filler" in p]
        events = [e for e in r.events if e["type"] == "filler"]
        assert len(pieces) == len(events) == r.conditions["behavior"]["events"].get("filler", 0)
        for p, e in zip(pieces, events):
            assert e["start"] == pytest.approx(p["at_s"], abs=1e-4)
            assert e["words"][0] in {"uh", "um", "ah", "er", "eh", "hm", "mm"}
            ref = load(p["filler"], SR)
            a = int(round(e["start"] * SR))
            y = r.samples[a: a + len(ref)]
            gain = float(ref @ y / (ref @ ref))
            np.testing.assert_allclose(y, gain * ref, atol=1e-6)  # the bank's waveform at the stated offset
            want_db = active_speech_level(x, SR).level_dbov - p["filler_level_dbov"] + p["gain_db"]
            assert 20 * np.log10(gain) == pytest.approx(want_db, abs=0.05)  # matched to the utterance's level
            assert 10 * np.log10(np.mean(y ** 2)) > -55
            checked += 1
    assert checked >= 3


def test_the_chain_runs_on_the_utterance_as_heard_and_the_recipe_replays(utterances, filler_bank):
    aug = Augmenter.from_config([*CHAIN, "behavior=spontaneous", f"behavior.fillers={filler_bank}",
                                 "behavior.restart.p=1.0", "behavior.hesitation.rate_per_min=20.0"], seed=3)
    x, words, text, _ = utterances[0]
    r = aug(x, SR, "utt-1", epoch=2, words=words, text=text)
    b = r.recipe["behavior"]
    assert r.conditions["augmented"] and r.conditions["behavior"]["events"]["restart"] == 1
    check_timeline(r, len(x))
    loss = next(s for s in r.recipe["leg"]["effects"] if s["name"] == "packet_loss")["params"]
    assert loss["duration_s"] == b["duration_s"]  # packet loss drawn over the longer utterance, not the input
    assert loss["n_frames"] * loss["frame_s"] >= r.samples.shape[-1] / SR - 1e-6
    noise = next(v for k, v in r.stems.items() if k.startswith("add_noise"))[0]
    assert len(noise) == r.samples.shape[-1] and np.sqrt(np.mean(noise[-SR // 2:] ** 2)) > 1e-5  # noise to the end
    recipe = json.loads(json.dumps(r.recipe))
    again = aug.apply(x, recipe)
    assert np.array_equal(again.samples, r.samples)
    assert (again.text, again.text_fluent, again.words, again.events) == (r.text, r.text_fluent, r.words, r.events)
    assert np.array_equal(aug.apply(x, {**recipe, "generator": {}}).samples, r.samples)  # effects from configs
    stereo = aug(np.stack([x, 0.5 * x]), SR, "utt-1", epoch=2, words=words, text=text)
    assert stereo.recipe == r.recipe and np.array_equal(stereo.samples[0], r.samples)  # one draw, every channel


def test_identical_in_another_process(aligned_speech, utterances, filler_bank):
    overrides = [*CHAIN, "behavior=spontaneous", f"behavior.fillers={filler_bank}", "behavior.restart.p=1.0",
                 "behavior.filler.rate_per_min=30.0"]
    x, words, text, row = utterances[0]
    line = aligned_speech.parent / "one.jsonl"
    line.write_text(json.dumps(row) + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(line), *overrides], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True)
    got, recipe = out.stdout.strip().split(" ", 1)
    r = Augmenter.from_config(overrides, seed=3)(x, SR, "utt-1", epoch=2, words=words, text=text)
    assert got == digest(r.samples) and json.loads(recipe) == json.loads(json.dumps(r.recipe))
    assert r.recipe["behavior"]["pieces"]


def test_without_words_the_utterance_is_left_fluent_and_says_why(utterances):
    x, words, text, _ = utterances[0]
    plain = Augmenter.from_config(CHAIN, seed=3)(x, SR, "utt-1", epoch=1)
    aug = Augmenter.from_config([*CHAIN, "behavior=hesitant_caller"], seed=3)
    for given in ({}, {"words": [], "text": text}):
        r = aug(x, SR, "utt-1", epoch=1, **given)
        assert r.conditions["behavior"] == {"name": "hesitant_caller", "skipped": "no word alignments"}
        assert r.recipe["behavior"]["skipped"] == "no word alignments"
        assert np.array_equal(r.samples, plain.samples)  # behavior=none's bytes
        assert r.events == [] and r.text == r.text_fluent == given.get("text") and r.words is None
    # behavior=none: the recipe of before, and the labels passed through on the unchanged timeline
    with_words = Augmenter.from_config(CHAIN, seed=3)(x, SR, "utt-1", epoch=1, words=words, text=text)
    assert with_words.recipe == plain.recipe and "behavior" not in plain.recipe and "behavior" not in plain.conditions
    assert np.array_equal(with_words.samples, plain.samples) and with_words.text == text
    assert [w["word"] for w in with_words.words] == [w["word"] for w in words] and with_words.events is None


def test_an_utterance_the_overall_p_leaves_alone_gets_no_disfluencies(utterances):
    x, words, text, _ = utterances[0]
    aug = Augmenter.from_config([*DRY, *ONLY, "behavior.restart.p=1.0"], p=0.3)
    key = next(f"utt-{k}" for k in range(50) if not aug.sample(f"utt-{k}", 0, SR, len(x) / SR)["applied"])
    r = aug(x, SR, key, words=words, text=text)
    assert np.array_equal(r.samples, x) and r.conditions["augmented"] is False
    assert r.conditions["behavior"]["skipped"].startswith("not augmented") and r.text == text and r.events == []


@pytest.mark.parametrize("words,match", [
    ("AUTHOR OF", "must be a list of"),
    ([{"word": "AUTHOR", "start": 0.1}], "entry 0 must be"),
    ([{"word": "A", "start": 0.5, "end": 0.9}, {"word": "B", "start": 0.2, "end": 0.4}], "in time order"),
    ([{"word": "A", "start": 0.5, "end": 99.0}], "ends at 99.0 s, after the input's"),
])
def test_bad_words_are_one_line_errors(utterances, words, match):
    x = utterances[0][0]
    aug = Augmenter.from_config([*DRY, *ONLY])
    with pytest.raises(BadInput, match=match) as e:
        aug(x, SR, "k", words=words)
    assert "\n" not in str(e.value) and "synth align" in str(e.value)
    with pytest.raises(BadInput, match="Augmenter text"):
        aug(x, SR, "k", words=utterances[0][1], text=["AUTHOR"])


def test_the_batch_transform_refuses_a_behavior_in_one_line():
    from synth.augment import AugmentTransform

    with pytest.raises(ConfigError, match="behavior=spontaneous: AugmentTransform keeps each example's shape"):
        AugmentTransform(Augmenter.from_config([*DRY, *ONLY]))


def test_rendered_dataset_items_carry_events_and_verbatim_text(aligned_speech):
    from synth.augment import RenderedDataset, collate

    ds = RenderedDataset.from_config([*DRY, f"sources.speech={aligned_speech}", *ONLY, "behavior.restart.p=1.0",
                                      "behavior.hesitation.rate_per_min=20.0"], n_items=3)
    items = list(ds)
    for it in items:
        assert it["text"] == " ".join(s["text"] for s in it["segments"])
        assert it["text_fluent"] == " ".join(s["text_fluent"] for s in it["segments"])
        for s in it["segments"]:
            kinds = {e["type"] for e in s["events"]}
            if len(s["text_fluent"].split()) >= 2:  # a restart needs two words
                assert "restart" in kinds and s["text"] != s["text_fluent"] and s["text"].endswith(s["text_fluent"])
            assert [w["word"] for w in s["words"]] == s["text"].split()
            assert all(s["start"] - 1e-4 <= e["start"] < e["end"] <= s["end"] + 1e-4 for e in s["events"])
            assert s["end"] <= it["audio"].shape[-1] / it["sample_rate"] + 1e-4
    batch = collate(items)
    assert batch["text_fluent"] == [it["text_fluent"] for it in items] and batch["audio"].shape[0] == 3


def test_fillers_follow_the_talkers_gender_when_given(tmp_path, utterances, filler_bank):
    """gender= picks the bank's fillers of that gender, as a build does from its speaker metadata."""
    rows = [json.loads(l) for l in (filler_bank / "manifest.jsonl").read_text().splitlines()]
    bank = tmp_path / "bank"
    bank.mkdir()
    rows = [{**r, "audio_filepath": str(filler_bank / r["audio_filepath"]), "gender": "FM"[i % 2]}
            for i, r in enumerate(rows)]  # the same real tokens, labeled half F and half M
    (bank / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    of = {r["audio_filepath"]: r["gender"] for r in rows}
    aug = Augmenter.from_config([*DRY, *ONLY, "behavior.filler.rate_per_min=40", f"behavior.fillers={bank}"], seed=1)
    x, words, text, _ = utterances[0]
    picked = {}
    for gender in ("F", "M", None):
        picked[gender] = {of[p["filler"]] for k in range(6)
                          for p in aug(x, SR, f"utt-{k}", words=words, text=text, gender=gender).recipe["behavior"]
                          .get("pieces", []) if "filler" in p}
    assert picked["F"] == {"F"} and picked["M"] == {"M"} and picked[None] == {"F", "M"}
    with pytest.raises(BadInput, match="gender"):
        aug(x, SR, "utt-0", words=words, text=text, gender=1)
