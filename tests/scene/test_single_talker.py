"""Single talker with a fixed duration (what a profile fitted from calls asks for): the item is filled by a
talker who can fill it, with every utterance that still fits."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import CORPUS
from synth.rng import item_rng
from synth.scene.single_talker import SingleTalker
from synth.sources.pools import build_pools


@pytest.fixture(scope="module")
def pool():
    return build_pools(CORPUS).speech


def _speech_s(scene: dict) -> float:
    return sum(u["src_end_s"] - u["src_start_s"] for u in scene["talkers"][0]["utterances"])


def test_a_6_s_item_is_filled_by_a_talker_with_enough_speech(pool):
    st = SingleTalker(duration_s=6.0, lead_s=0.5, tail_s=0.5, pause_s=0.5)
    total = {s: sum(u.duration_s for u in pool.by_speaker[s]) for s in pool.speakers}
    shortest = {s: min(u.duration_s for u in pool.by_speaker[s]) for s in pool.speakers}
    assert min(total.values()) < 5.0 and max(shortest.values()) > 5.0   # both kinds of talker are in the pool
    for k in range(60):
        scene = st.sample(item_rng(0, f"st-{k:06d}", "scene"), pool, 16000)
        spk = scene["talkers"][0]["source_speaker"]
        assert total[spk] >= 5.0 and shortest[spk] <= 5.0, spk        # can fill the 5 s between lead and tail
        assert scene["duration_s"] == 6.0                                # nothing overruns the target
        last = scene["talkers"][0]["utterances"][-1]
        assert last["start_s"] + last["src_end_s"] <= 5.5 + 1e-6
        # every utterance of the talker that would still have fitted was added (none skipped wrongly)
        used = {u["source_id"] for u in scene["talkers"][0]["utterances"]}
        room = 5.5 - (last["start_s"] + last["src_end_s"]) - 0.5
        assert all(u.id in used or u.duration_s > room for u in pool.by_speaker[spk])


def test_fixed_length_items_are_not_silent_shells(pool):
    """With the corpus's default lead/pause/tail, 80 items of 6 s: the old rule (stop at the first utterance that
    does not fit, pad the rest; any talker) left 41% of them with less than 2 s of speech and ran 23% past 6 s."""
    st = SingleTalker(duration_s=6.0)
    scenes = [st.sample(item_rng(1, f"st-{k:06d}", "scene"), pool, 16000) for k in range(80)]
    speech = np.array([_speech_s(s) for s in scenes])
    assert np.mean(speech < 2.0) <= 0.05 and np.median(speech) > 3.0
    assert all(s["duration_s"] == 6.0 for s in scenes)


def test_when_no_utterance_fits_the_shortest_is_kept_whole(pool):
    st = SingleTalker(duration_s=1.0, lead_s=0.2, tail_s=0.4)
    for k in range(20):
        scene = st.sample(item_rng(2, f"st-{k:06d}", "scene"), pool, 16000)
        utts = scene["talkers"][0]["utterances"]
        own = pool.by_speaker[scene["talkers"][0]["source_speaker"]]
        assert len(utts) == 1 and utts[0]["src_end_s"] == min(u.duration_s for u in own)
        assert scene["duration_s"] == pytest.approx(max(1.0, 0.2 + utts[0]["src_end_s"] + 0.4), abs=1e-3)
