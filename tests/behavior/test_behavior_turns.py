"""Behaviors per talker in conversations and meetings, on real aligned speech: each talker draws its own
rates, events stay inside their segments, later utterances move by what earlier ones gained (no talker
overlaps itself), every talker's audio lies exactly inside its labeled segments (so overlap flags and the
RTTM hold), and a turn cut off while another talker speaks may stop inside a word: the fragment is the
source's own samples, ends where its segment ends and is labeled ``bo-``. Dry builds (no room, noise or
level change), so the audio is the placed source samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.audio import load
from synth.cli import compose_config
from synth.plan import make_plan, sample_recipe
from synth.validate import validate_set

from helpers import CORPUS, build_set, manifest

SR = 16000
Q = 2.5 / 32768  # 16-bit FLAC rounding, with margin
FADE = int(0.01 * SR)
DRY = ["room=none", "noise=none", "channel=clean", "level.speech_dbov=null", "level.clipping.p=0.0",
       f"sample_rate={SR}", "scenario.duration_s=[20,30]", "output.stems=true"]
# spontaneous, a little stronger, and every eligible turn cut inside a word
STRONG = ["behavior=spontaneous", "behavior.restart.p=0.3", "behavior.hesitation.rate_per_min=[4,8]",
          "behavior.partial_word.p=1.0"]
SETS = {"conversation": ["scenario=conversation", "output.layout=stereo", "n_items=8"],
        "meeting": ["scenario=meeting", "scenario.n_speakers={choice: [3, 4]}", "n_items=5"]}


@pytest.fixture(scope="module", params=sorted(SETS))
def turn_set(request, tmp_path_factory, aligned_talkers, filler_bank):
    kind = request.param
    out = tmp_path_factory.mktemp(kind) / "set"
    build_set(out, *DRY, *SETS[kind], f"sources.speech={aligned_talkers}", *STRONG, f"behavior.fillers={filler_bank}")
    return kind, out, manifest(out)


def segs_with_utterances(it: dict):
    """(segment, recipe utterance) pairs: segments are keyed by talker label, source id and start."""
    by = {(s["speaker"], s["source_id"], s["start"]): s for s in it["segments"]}
    for t in it["recipe"]["talkers"]:
        for u in t["utterances"]:
            yield by[(t["label"], u["source_id"], round(u["start_s"], 4))], u, t


def talker_audio(out: Path, it: dict, label: str) -> np.ndarray:
    """One talker's placed speech (its stem: in a meeting the others share its channel)."""
    x, sr = sf.read(out / "stems" / it["id"] / f"speech_{label}.flac", dtype="float32")
    assert sr == SR
    return x


def inside(segments: list[dict], n: int) -> np.ndarray:
    """Samples inside any of ``segments`` (a sample of rounding either side)."""
    m = np.zeros(n, bool)
    for s in segments:
        m[max(0, int(round(s["start"] * SR)) - 1): int(round(s["end"] * SR)) + 1] = True
    return m


def fragments(it: dict):
    """(segment, utterance, event) of every partial word at a turn cut (the segment's last word)."""
    for seg, u, _ in segs_with_utterances(it):
        for e in seg.get("events") or []:
            if e["type"] == "partial_word" and u["truncated"] and e["end"] == seg["end"]:
                yield seg, u, e


def test_every_talker_draws_its_own_rates_and_events_stay_inside_segments(turn_set):
    kind, out, items = turn_set
    both = 0
    for it in items:
        talkers = it["recipe"]["talkers"]
        assert len(talkers) >= 2 and all(t["behavior"]["name"] == "spontaneous" for t in talkers)
        rates = [tuple(sorted(t["behavior"]["rates_per_min"].items())) for t in talkers]
        assert len(set(rates)) == len(rates)  # drawn per talker, not once per item
        speakers = set()
        for s in it["segments"]:
            assert s["text_fluent"] is not None
            for e in s["events"]:
                assert s["start"] - 1e-4 <= e["start"] < e["end"] <= s["end"] + 1e-4, (s, e)
                assert 0 <= e["start"] and e["end"] <= it["duration"] + 1e-4
                speakers.add(s["speaker"])
            w = s.get("words") or []
            assert [x["word"] for x in w] == s["text"].split()
        both += len(speakers) >= 2
    assert both >= len(items) - 1  # events for more than one talker, item after item
    assert validate_set(out) == []


def test_later_utterances_move_by_what_earlier_ones_gained(turn_set, aligned_talkers):
    """The same seed without behavior gives the scene before the behavior stage. Taking the utterances in
    their start order, each one's gain (as built minus the source span placed: a turn-cut fragment gains
    nothing) moves every utterance that then started at or after its end, of every talker."""
    kind, out, items = turn_set
    cfg = compose_config([f"sources.root={CORPUS}", f"sources.speech={aligned_talkers}", *DRY, *SETS[kind]])
    plan = make_plan(cfg)
    moved = 0
    for it in items:
        base = sample_recipe(plan, it["id"])
        orig = {(t["label"], k): u for t in base["talkers"] for k, u in enumerate(t["utterances"])}
        now = {(t["label"], k): u for t in it["recipe"]["talkers"] for k, u in enumerate(t["utterances"])}
        assert orig.keys() == now.keys()
        start = {k: u["start_s"] for k, u in orig.items()}
        total = 0.0
        for key in sorted(orig, key=lambda k: (orig[k]["start_s"], k)):
            u, b = now[key], now[key].get("behavior") or {}
            assert u["src_end_s"] == orig[key]["src_end_s"]  # the scene's cut is kept; a fragment is a piece
            if not b.get("pieces"):
                continue
            gain = b["duration_s"] - (b["pieces"][-1]["src_end_s"] - u["src_start_s"])
            end = start[key] + u["src_end_s"] - u["src_start_s"]
            for k in start:
                if k != key and start[k] >= end - 1e-6:
                    start[k] += gain
            total += gain
        for key, u in now.items():
            assert u["start_s"] == pytest.approx(start[key], abs=1e-3)
            moved += u["start_s"] > orig[key]["start_s"] + 0.01
        assert it["duration"] == pytest.approx(base["duration_s"] + total, abs=1e-3)
        for label in {s["speaker"] for s in it["segments"]}:  # no talker overlaps itself
            own = sorted((s["start"], s["end"]) for s in it["segments"] if s["speaker"] == label)
            assert all(a[1] <= b[0] + 1e-4 for a, b in zip(own, own[1:])), (label, own)
    assert moved >= len(items)


def test_audio_lies_exactly_inside_the_segments_so_overlap_labels_hold(turn_set):
    kind, out, items = turn_set
    overlapped = 0
    for it in items:
        x, _ = sf.read(out / it["audio_filepath"], dtype="float32")
        channels = x.T if x.ndim == 2 else x[None]
        for label in {s["speaker"] for s in it["segments"]}:  # each talker's stem, and its channel when stereo
            own = [s for s in it["segments"] if s["speaker"] == label]
            for ch in [talker_audio(out, it, label)] + ([channels[own[0]["channel"]]] if x.ndim == 2 else []):
                assert np.max(np.abs(ch[~inside(own, len(ch))]), initial=0.0) <= Q, label  # silent outside
        if x.ndim == 1:  # a meeting's one channel: sound only inside some segment
            assert np.max(np.abs(x[~inside(it["segments"], len(x))]), initial=0.0) <= Q
        for a in it["segments"]:
            others = [b for b in it["segments"] if b["speaker"] != a["speaker"]
                      and b["start"] < a["end"] and a["start"] < b["end"]]
            assert a["overlap"] == bool(others), a
            overlapped += a["overlap"]
        rttm = [l.split() for l in (out / "segments.rttm").read_text().splitlines() if l.split()[1] == it["id"]]
        got = sorted((round(float(r[3]), 3), round(float(r[4]), 3)) for r in rttm)
        want = sorted((round(s["start"], 3), round(s["end"] - s["start"], 3)) for s in it["segments"])
        assert len(got) == len(want)
        np.testing.assert_allclose(np.array(got, float).reshape(-1, 2), np.array(want, float).reshape(-1, 2), atol=2e-3)
    assert overlapped >= len(items)


def test_a_turn_cut_may_stop_inside_a_word_the_fragment_is_the_source_audio(turn_set):
    kind, out, items = turn_set
    n = 0
    for it in items:
        for seg, u, e in fragments(it):
            x = talker_audio(out, it, seg["speaker"])
            tok = e["words"][0]
            assert tok.endswith("-") and seg["text"].split()[-1] == tok and seg["words"][-1]["word"] == tok
            assert tok not in seg["text_fluent"].split() and len(seg["text"].split()) >= 2
            piece = u["behavior"]["pieces"][-1]
            assert piece["fade_out_s"] > 0 and piece["src_end_s"] > u["src_end_s"]  # past the word end it was cut at
            # the fragment's samples are the source's (render places the piece at `at`), up to the fade-out
            src = load(Path(it["recipe"]["sources_root"]) / u["path"], SR)
            at, p0 = int(round((u["start_s"] + piece["at_s"]) * SR)), int(round(piece["src_start_s"] * SR))
            a, b = int(round(e["start"] * SR)), at + int(round(piece["src_end_s"] * SR)) - p0
            assert abs(b - int(round(seg["end"] * SR))) <= 1 and b - a > 3 * FADE
            np.testing.assert_allclose(x[a: b - FADE], src[p0 + a - at: p0 + b - FADE - at], atol=Q)
            peak = np.max(np.abs(x))
            assert 10 * np.log10(np.mean(x[a: b] ** 2)) > 20 * np.log10(peak) - 45  # a voice, not a pause
            # and it ends where the segment ends: this talker is silent right after (unless it speaks on)
            after = [s["start"] for s in it["segments"] if s["speaker"] == seg["speaker"] and s["start"] >= seg["end"]]
            if not after or min(after) > seg["end"] + 0.05:
                assert np.max(np.abs(x[b + 1: b + int(0.05 * SR)]), initial=0.0) <= Q
            assert seg["overlap"]  # cut off while another talker speaks
            n += 1
    assert n >= 3


def test_behavior_none_gives_no_fragments_with_the_same_seed(turn_set, tmp_path, aligned_talkers):
    kind, out, items = turn_set
    none = build_set(tmp_path / "none", *DRY, *SETS[kind], f"sources.speech={aligned_talkers}", "behavior=none")
    plain = manifest(none)
    assert [it["id"] for it in plain] == [it["id"] for it in items]
    assert sum(1 for it in items for _ in fragments(it)) >= 3
    for it in plain:
        assert "text_fluent" not in it
        for s in it["segments"]:
            assert "events" not in s and not any(w.endswith("-") for w in s["text"].split())
    # the same turns are cut: the behavior build cut the same utterances (its fragments are extra audio)
    cut = lambda its: sorted((it["id"], s["source_id"]) for it in its for s in it["segments"] if s["truncated"])  # noqa: E731
    assert cut(plain) == cut(items)
    assert validate_set(none) == []


def test_the_fragment_probability_changes_no_other_draw(aligned_talkers):
    """partial_word.p=0 and =1 draw the same items but for the fragments (paired slices differ by them)."""
    def recipes(p):
        cfg = compose_config([f"sources.root={CORPUS}", f"sources.speech={aligned_talkers}", *DRY, *SETS["conversation"],
                              *STRONG, f"behavior.partial_word.p={p}"])
        plan = make_plan(cfg)
        return [sample_recipe(plan, f"conv-{i:06d}") for i in range(6)]

    n = 0
    for a, b in zip(recipes(0.0), recipes(1.0)):
        assert a["duration_s"] == b["duration_s"]
        for ta, tb in zip(a["talkers"], b["talkers"]):
            assert ta["behavior"] == tb["behavior"]
            for ua, ub in zip(ta["utterances"], tb["utterances"]):
                ea, eb = ((u.get("behavior") or {}).get("events", []) for u in (ua, ub))
                extra = len(eb) - len(ea)
                assert ua["start_s"] == ub["start_s"] and extra in (0, 1) and eb[:len(ea)] == ea
                if extra:
                    assert ub["truncated"] and eb[-1]["type"] == "partial_word" and eb[-1]["words"][0].endswith("-")
                    n += 1
    assert n >= 3
