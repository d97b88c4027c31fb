"""Behavior stage on real audio: fillers are the harvested real tokens at the stated offsets, a restart
repeats the utterance's own opening samples, event times agree with the audio, labels are verbatim and
hashed, `synth render --from` reproduces the set, and behavior=none changes no byte."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.audio import active_speech_level, load
from synth.build import build
from synth.cli import compose_config
from synth.errors import ConfigError
from synth.plan import make_plan, plain
from synth.rerender import rerender
from synth.validate import validate_set

from helpers import CORPUS, build_set, manifest

SR = 16000
Q = 2.5 / 32768  # 16-bit FLAC rounding, with margin
DRY = ["room=none", "noise=none", "channel=clean", "level.speech_dbov=null", "level.clipping.p=0.0",
       f"sample_rate={SR}"]
ONLY = ["behavior.restart.p=0.0", "behavior.repetition.rate_per_min=0.0", "behavior.hesitation.rate_per_min=0.0",
        "behavior.filler.rate_per_min=0.0"]


def dry_build(out: Path, speech: Path, *overrides: str) -> list[dict]:
    build_set(out, *DRY, f"sources.speech={speech}", "behavior=spontaneous", *ONLY, *overrides)
    return manifest(out)


def audio_of(out: Path, it: dict) -> np.ndarray:
    x, sr = sf.read(out / it["audio_filepath"], dtype="float32")
    assert sr == SR
    return x


def behavior_utterances(it: dict):
    for t in it["recipe"]["talkers"]:
        for u in t["utterances"]:
            if (u.get("behavior") or {}).get("pieces"):
                yield u


def test_behavior_none_is_byte_identical_to_a_build_without_the_group(tmp_path):
    build_set(tmp_path / "none", "n_items=3", "behavior=none")
    cfg = plain(compose_config([f"out_dir={tmp_path / 'absent'}", f"sources.root={CORPUS}", "n_items=3"]))
    cfg.pop("behavior")  # a build as before the group existed
    build(cfg)
    a, b = tmp_path / "none", tmp_path / "absent"
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and ".synth" not in p.as_posix())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file() and ".synth" not in p.as_posix())
    for name in names:
        if name == "config.yaml":  # records out_dir
            ca, cb = (yaml.safe_load((d / name).read_text()) for d in (a, b))
            ca.pop("out_dir"), cb.pop("out_dir")
            assert ca == cb and "behavior" not in ca
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert "text_fluent" not in (a / "manifest.jsonl").read_text()


def test_filler_span_holds_the_real_filler_level_matched(tmp_path, aligned_speech, filler_bank):
    out = tmp_path / "f"
    items = dry_build(out, aligned_speech, "n_items=4", f"behavior.fillers={filler_bank}",
                      "behavior.filler.rate_per_min=40.0")
    checked = 0
    for it in items:
        x = audio_of(out, it)
        events = [e for s in it["segments"] for e in s.get("events", []) if e["type"] == "filler"]
        pieces = [(u, p) for u in behavior_utterances(it) for p in u["behavior"]["pieces"] if "filler" in p]
        assert len(events) == len(pieces)
        for e, (u, p) in zip(events, pieces):
            assert e["start"] == pytest.approx(u["start_s"] + p["at_s"], abs=1e-4)
            assert e["words"][0] in {"uh", "um", "ah", "er", "eh", "hm", "mm"}
            ref = load(p["filler"], SR)  # the bank's token, as render reads it
            a = int(round(e["start"] * SR))
            y = x[a: a + len(ref)]
            gain = float(ref @ y / (ref @ ref))
            np.testing.assert_allclose(y, gain * ref, atol=Q)  # the same waveform at the stated offset
            src = load(Path(it["recipe"]["sources_root"]) / u["path"], SR)[int(round(u["src_start_s"] * SR)): int(round(u["src_end_s"] * SR))]
            want_db = active_speech_level(src, SR).level_dbov - p["filler_level_dbov"] + p["gain_db"]
            assert 20 * np.log10(gain) == pytest.approx(want_db, abs=0.05)  # matched to the talker's level
            assert 10 * np.log10(np.mean(y ** 2)) > -55  # a voice, not a pause
            checked += 1
    assert checked >= 3


def test_restart_repeats_the_utterance_opening_samples(tmp_path, aligned_speech):
    out = tmp_path / "r"
    items = dry_build(out, aligned_speech, "n_items=4", "behavior.restart.p=1.0", "behavior.restart.p_partial=0.0")
    fade = int(0.01 * SR)
    n = 0
    for it in items:
        x = audio_of(out, it)
        for u in behavior_utterances(it):
            frag, main = u["behavior"]["pieces"][:2]
            assert frag["src_start_s"] == u["src_start_s"] and main["src_end_s"] == u["src_end_s"]
            # the opening words heard twice: the fragment's samples from the main piece's start to its cut
            k = int(round((frag["src_end_s"] - main["src_start_s"]) * SR)) - fade
            off = int(round((main["src_start_s"] - frag["src_start_s"]) * SR))
            first = int(round((u["start_s"] + frag["at_s"]) * SR)) + off
            again = int(round((u["start_s"] + main["at_s"]) * SR))
            assert k > 0.1 * SR
            np.testing.assert_allclose(x[first + fade: first + k], x[again + fade: again + k], atol=2 * Q)
            src = load(Path(it["recipe"]["sources_root"]) / u["path"], SR)
            s = int(round(main["src_start_s"] * SR))
            np.testing.assert_allclose(x[again + fade: again + k], src[s + fade: s + k], atol=Q)
            n += 1
    assert n >= 3
    seg = [s for it in items for s in it["segments"] if s["events"]][0]
    restart = seg["events"][0]
    assert restart["type"] == "restart" and seg["text"].split()[: len(restart["words"])] == restart["words"]
    assert seg["text"].endswith(seg["text_fluent"])  # the whole sentence after the false start


def test_event_times_agree_with_the_audio(tmp_path, aligned_speech, filler_bank):
    out = tmp_path / "all"
    items = dry_build(out, aligned_speech, "n_items=5", f"behavior.fillers={filler_bank}", "behavior.restart.p=0.7",
                      "behavior.restart.p_partial=0.5", "behavior.repetition.rate_per_min=8.0",
                      "behavior.hesitation.rate_per_min=10.0", "behavior.filler.rate_per_min=8.0")
    kinds = set()
    for it in items:
        x = audio_of(out, it)
        peak = 20 * np.log10(np.max(np.abs(x)))
        for s in it["segments"]:
            for e in s["events"]:
                kinds.add(e["type"])
                span = x[int(round(e["start"] * SR)): int(round(e["end"] * SR))]
                assert s["start"] - 1e-4 <= e["start"] < e["end"] <= s["end"] + 1e-4
                if e["type"] == "hesitation":
                    assert np.max(np.abs(span)) <= Q  # the added pause is silent (no noise in a dry build)
                else:  # spoken: energy well above silence, relative to the item's peak
                    assert 10 * np.log10(np.mean(span ** 2) + 1e-12) > peak - 45, e
            w = s["words"]
            assert [x["word"] for x in w] == s["text"].split()  # verbatim words, in order, with times
            assert all(a["end"] <= b["start"] + 1e-4 for a, b in zip(w, w[1:]))
    assert kinds == {"restart", "partial_word", "repetition", "hesitation", "filler"}


def test_labels_are_verbatim_hashed_and_render_from_reproduces(tmp_path, aligned_speech, filler_bank):
    out = tmp_path / "l"
    items = dry_build(out, aligned_speech, "n_items=3", f"behavior.fillers={filler_bank}",
                      "behavior.filler.rate_per_min=30.0", "behavior.restart.p=1.0", "behavior.restart.p_partial=1.0")
    it = items[0]
    assert it["text"] != it["text_fluent"] and any(w.endswith("-") for w in it["text"].split())
    ctm = (out / "words.ctm").read_text().split("\n")
    assert [l.split()[4] for l in ctm if l.startswith(it["id"] + " ")] == it["text"].split()
    assert f" {it['segments'][0]['text']}" in (out / "references.stm").read_text()
    assert validate_set(out) == []
    lines = (out / "manifest.jsonl").read_text().splitlines()
    edited = json.loads(lines[0])
    edited["segments"][0]["events"][0]["start"] += 0.5  # an event moved after the build
    (out / "manifest.jsonl").write_text("\n".join([json.dumps(edited)] + lines[1:]) + "\n")
    assert any("labels_sha256" in p for p in validate_set(out))
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    rerender(out / "manifest.jsonl", tmp_path / "again")
    for it in items:
        assert (tmp_path / "again" / it["audio_filepath"]).read_bytes() == (out / it["audio_filepath"]).read_bytes()
    assert (tmp_path / "again" / "manifest.jsonl").read_bytes() == (out / "manifest.jsonl").read_bytes()


def test_utterances_without_alignments_are_left_fluent_and_say_so(tmp_path):
    items = build_set(tmp_path, "n_items=2", "behavior=hesitant_caller") and manifest(tmp_path)
    for it in items:
        for s in it["segments"]:
            assert s["behavior_skipped"] == "no word alignments" and s["events"] == [] and s["text"] == s["text_fluent"]
        assert "no filler bank" in it["recipe"]["talkers"][0]["behavior"]["fillers"]


def test_same_seed_same_recipe_and_events_move_later_utterances(aligned_speech):
    cfg = compose_config([f"sources.root={CORPUS}", f"sources.speech={aligned_speech}", "behavior=spontaneous",
                          "behavior.hesitation.rate_per_min=30.0", "scenario.utterances=2"])
    from synth.plan import sample_recipe
    a, b = (sample_recipe(make_plan(cfg), "st-000001") for _ in range(2))
    assert a == b
    plain_cfg = compose_config([f"sources.root={CORPUS}", f"sources.speech={aligned_speech}", "scenario.utterances=2"])
    base = sample_recipe(make_plan(plain_cfg), "st-000001")
    ua, ub = a["talkers"][0]["utterances"], base["talkers"][0]["utterances"]
    gained = ua[0]["behavior"]["duration_s"] - (ua[0]["src_end_s"] - ua[0]["src_start_s"])
    assert gained > 0.2
    assert ua[1]["start_s"] == pytest.approx(ub[1]["start_s"] + gained, abs=2e-4)
    total = sum(u["behavior"].get("duration_s", u["src_end_s"] - u["src_start_s"]) - (u["src_end_s"] - u["src_start_s"])
                for u in ua)
    assert a["duration_s"] == pytest.approx(base["duration_s"] + total, abs=4e-4)


@pytest.mark.parametrize("override,match", [
    ("+behavior.restart.q=1", "behavior.restart: unknown key 'q'"),
    ("behavior.restart.p=2", r"behavior.restart.p=2.*\[0, 1\]"),
    ("behavior.partial_word.p=1.5", r"behavior.partial_word.p=1.5.*\[0, 1\]"),
    ("+behavior.partial_word.rate=1", "behavior.partial_word: unknown key 'rate'"),
    ("behavior.fillers=/nonexistent/bank", "no manifest.jsonl there"),
])
def test_bad_behavior_settings_are_one_line_errors(override, match):
    cfg = compose_config([f"sources.root={CORPUS}", "behavior=spontaneous", override])
    with pytest.raises(ConfigError, match=match):
        make_plan(cfg)

