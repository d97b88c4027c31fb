"""Conversation and meeting scenarios: distinct speakers, roles and legs, metadata-weighted speaker mix."""

from __future__ import annotations

from collections import Counter

import pytest

from synth.rng import item_rng
from synth.scene.conversation import ConversationScenario, MeetingScenario
from synth.scene.turn_stats import realized_stats
from synth.sources.speech import SpeechPool, Utterance


@pytest.fixture(scope="module")
def pool(request):
    """The corpus speech as a pool (metadata from the manifest; an accent label made up per speaker)."""
    import json
    from tests.conftest import CORPUS
    rows = [json.loads(x) for x in (CORPUS / "manifest.jsonl").read_text().splitlines() if x.strip()]
    utts = []
    for r in rows:
        if r["kind"] != "speech":
            continue
        indian = ("cmu_arctic_axb", "cmusphinx_cards", "jfk", "ljspeech_lj", "speech_commands_0a9f9af7")
        accent = "indian_english" if r["speaker"] in indian else "us_english"
        utts.append(Utterance(id=r["path"], path=CORPUS / r["path"], rel_path=r["path"], speaker=r["speaker"],
                              text=r["transcript"], duration_s=r["duration_s"],
                              meta={"gender": r["gender"], "accent": accent}, words=None))
    return SpeechPool(utts)


def _segments(recipe):
    return [(t["label"], u["start_s"], u["start_s"] + u["src_end_s"] - u["src_start_s"])
            for t in recipe["talkers"] for u in t["utterances"]]


def test_conversation_two_distinct_speakers_roles_legs(pool):
    sc = ConversationScenario()
    for i in range(40):
        r = sc.sample(item_rng(0, f"cc-{i}", "scenario"), pool, 16000)
        spk = [t["source_speaker"] for t in r["talkers"]]
        assert len(spk) == 2 and len(set(spk)) == 2
        assert [(t["role"], t["leg"]) for t in r["talkers"]] == [("agent", 0), ("customer", 1)]
        assert 30.0 <= r["duration_s"] <= 90.0 + 20.0  # the last turn is kept whole
        for t in r["talkers"]:
            assert t["effects"] == []
            for u in t["utterances"]:
                assert 0.0 <= u["start_s"] and u["start_s"] + u["src_end_s"] <= r["duration_s"]
                assert pool.by_speaker[t["source_speaker"]][0].speaker == t["source_speaker"]
        st = realized_stats(_segments(r))
        assert st["n_speakers"] == 2 and st["n_turns"] >= 3
    # same rng -> same recipe
    a = sc.sample(item_rng(0, "x", "scenario"), pool, 16000)
    assert a == sc.sample(item_rng(0, "x", "scenario"), pool, 16000)


def test_meeting_three_to_eight_distinct_talkers(pool):
    sc = MeetingScenario(n_speakers={"choice": [3, 5, 8]}, duration_s=90.0)
    sizes = set()
    for i in range(12):
        r = sc.sample(item_rng(0, f"mt-{i}", "scenario"), pool, 16000)
        spk = [t["source_speaker"] for t in r["talkers"]]
        assert len(set(spk)) == len(spk) and 2 <= len(spk) <= 8
        assert all(t["leg"] == 0 and t["role"] == "participant" for t in r["talkers"])
        sizes.add(len(spk))
    assert max(sizes) >= 5


def test_speaker_weights_give_the_requested_mix(pool):
    def mix(weights, key):
        sc = ConversationScenario(speakers={"weights": weights}, duration_s=30.0)
        c = Counter()
        for i in range(300):
            r = sc.sample(item_rng(0, f"w-{i}", "scenario"), pool, 16000)
            assert len(r["talkers"]) == 2
            c.update(pool.by_speaker[t["source_speaker"]][0].meta[key] for t in r["talkers"])
        return {k: v / sum(c.values()) for k, v in c.items()}

    # 5 of 23 speakers are "indian_english": unweighted they would be ~22% of talkers
    m = mix({"accent": {"indian_english": 0.4, "us_english": 0.6}}, "accent")
    # two distinct speakers per call pull the mix slightly toward the pool's, hence 0.05
    assert abs(m["indian_english"] - 0.4) <= 0.05
    g = mix({"gender": {"F": 0.5, "M": 0.5}}, "gender")
    assert "?" not in g and abs(g["F"] - 0.5) <= 0.05  # unlisted (unknown) gender gets weight 0
