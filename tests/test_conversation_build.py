"""Conversations end to end: stereo call-center audio, labels that load in pyannote and meeteval, and
transcripts that never contain a word that is not in the audio (word-aligned sources, forced interruptions)."""

import json

import numpy as np
import pytest
import soundfile as sf

from synth.validate import validate_set

from helpers import CORPUS, build_set, manifest

WORDS = sorted(CORPUS.glob("speech/speech_commands_*/*.wav"))  # one spoken digit per file


@pytest.fixture(scope="module")
def call_set(tmp_path_factory):
    return build_set(tmp_path_factory.mktemp("cc") / "set", "profile=call_center_narrowband", "n_items=3", "workers=2")


@pytest.fixture(scope="module")
def quiet_call_set(tmp_path_factory):
    """The same calls with no background noise, so any energy on the other channel would be leakage."""
    return build_set(tmp_path_factory.mktemp("ccq") / "set", "profile=call_center_narrowband", "n_items=2",
                     "noise=none")


def test_each_talker_is_only_on_its_own_leg(quiet_call_set):
    for it in manifest(quiet_call_set):
        audio, sr = sf.read(quiet_call_set / it["audio_filepath"], dtype="float32")
        for s in it["segments"]:
            if s["overlap"] or s["end"] - s["start"] < 1.0:
                continue
            seg = audio[int(s["start"] * sr): int(s["end"] * sr)]
            own, other = np.mean(seg[:, s["channel"]] ** 2), np.mean(seg[:, 1 - s["channel"]] ** 2)
            assert own > 100 * other, (it["id"], s)   # > 20 dB apart: no crosstalk between legs


def test_noise_is_drawn_per_leg(call_set):
    for it in manifest(call_set):
        legs = {leg["name"]: leg for leg in it["recipe"]["legs"]}
        agent = next(e for e in legs["agent"]["effects"] if e["name"] == "add_noise")["params"]
        customer = next(e for e in legs["customer"]["effects"] if e["name"] == "add_noise")["params"]
        assert 15 <= agent["snr_db"] <= 30 and -2 <= customer["snr_db"] <= 35   # call floor vs street/home
        assert (agent["noise_path"], agent["offset_s"]) != (customer["noise_path"], customer["offset_s"])


def test_call_center_is_stereo_8k_30_to_90_s_with_legs_apart(call_set):
    assert validate_set(call_set) == []
    for it in manifest(call_set):
        assert it["num_channels"] == 2 and it["sample_rate"] == 8000 and 30 <= it["duration"] <= 92
        audio, sr = sf.read(call_set / it["audio_filepath"], dtype="float32")
        roles = {s["role"]: s["channel"] for s in it["segments"]}
        assert roles == {"agent": 0, "customer": 1} and audio.shape[1] == 2
        assert 0 <= it["conditions"]["overlap_ratio"] < 0.6 and it["conditions"]["n_speakers"] == 2
        assert all(0 <= s["start"] < s["end"] <= it["duration"] + 1e-3 for s in it["segments"])


def test_labels_load_in_pyannote_and_meeteval(call_set):
    from meeteval.io import SegLST
    from meeteval.wer import cpwer
    from pyannote.database.util import load_rttm
    from pyannote.metrics.diarization import DiarizationErrorRate

    rttm = load_rttm(str(call_set / "segments.rttm"))
    items = manifest(call_set)
    assert set(rttm) == {it["id"] for it in items}
    der = DiarizationErrorRate()
    for uri, ann in rttm.items():
        assert der(ann, ann) == 0.0 and len(ann.labels()) == 2
    ref = SegLST.load(call_set / "references.seglst.json")
    assert len(ref) == sum(len(it["segments"]) for it in items)
    errors = cpwer(ref, ref)
    assert all(e.error_rate == 0 for e in errors.values())
    stm = (call_set / "references.stm").read_text().splitlines()
    assert len(stm) == len(ref)


@pytest.fixture(scope="module")
def aligned_sources(tmp_path_factory):
    """Two 'speakers' whose utterances are 4-6 real spoken digits with known word times (written to tmp)."""
    d = tmp_path_factory.mktemp("aligned")
    rng = np.random.default_rng(0)
    digits = [(sf.read(p, dtype="float32")[0], p.name.split("_")[0].upper()) for p in WORDS]
    rows = []
    for spk in ("spk_a", "spk_b"):
        for u in range(6):
            pick = rng.choice(len(digits), size=int(rng.integers(4, 7)), replace=False)
            audio, words, t = [], [], 0.0
            for k in pick:
                x, w = digits[k]
                audio += [x, np.zeros(int(0.2 * 16000), dtype=np.float32)]
                words.append({"word": w, "start": round(t, 4), "end": round(t + len(x) / 16000, 4)})
                t += len(x) / 16000 + 0.2
            path = d / f"{spk}_{u}.wav"
            sf.write(path, np.concatenate(audio), 16000)
            rows.append({"audio_filepath": str(path), "duration": t, "speaker": spk, "words": words,
                         "text": " ".join(w["word"] for w in words), "license": "CC-BY-4.0 (Speech Commands)"})
    (d / "aligned.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d / "aligned.jsonl", {r["audio_filepath"]: (r["words"], r["duration"]) for r in rows}


def test_truncated_transcripts_hold_only_words_in_the_audio(tmp_path, aligned_sources):
    man, words_of = aligned_sources
    out = build_set(tmp_path / "set", "scenario=conversation", f"sources.speech={man}", "n_items=6",
                    "scenario.duration_s=[30,40]", "scenario.turns.p_overlap=0.9", "scenario.turns.p_interrupt=1.0",
                    "room=none", "noise=none")
    truncated = 0
    for it in manifest(out):
        segs = {(s["source_id"], s["start"]): s for s in it["segments"]}
        for t in it["recipe"]["talkers"]:
            for u in t["utterances"]:
                src, duration = words_of[u["path"]]
                in_audio = [w["word"] for w in src if w["end"] <= u["src_end_s"] + 1e-6]
                seg = segs[(u["source_id"], round(u["start_s"], 4))]
                assert seg["text"].split() == in_audio        # exactly the words whose audio is kept
                assert seg["truncated"] == (u["src_end_s"] < duration - 0.01)   # truncated = its audio was cut
                if seg["truncated"]:
                    truncated += 1
                assert all(seg["start"] - 1e-3 <= w["start"] < w["end"] <= seg["end"] + 1e-3 for w in seg["words"])
    assert truncated >= 3, "the forced interruptions must cut some utterances"
    ctm = (out / "words.ctm").read_text().splitlines()
    assert len(ctm) == sum(len(s["words"]) for it in manifest(out) for s in it["segments"])
    from meeteval.io import CTM
    loaded = CTM.load(out / "words.ctm")
    assert len(loaded.lines) == len(ctm) and {l.filename for l in loaded.lines} <= {it["id"] for it in manifest(out)}
