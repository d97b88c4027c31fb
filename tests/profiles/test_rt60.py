"""Blind RT60 against simulated rooms (pyroomacoustics shoebox, truth = T30 measured on the RIR).

Utterances 2, 7 of groundtruth.SPEECH were NOT used to fit ``RT60_CAL`` (held out). Full table:
``python tests/profiles/groundtruth.py 36 --rt60``.
"""

from __future__ import annotations

import numpy as np
import pytest

from synth.audio import load
from synth.profiles.estimate import blind_rt60

from .groundtruth import SPEECH, rir_items


@pytest.fixture(scope="module")
def rows(corpus_root):
    out = []
    for name, y, truth in rir_items(rt60s=(0.25, 0.7), utts=(2, 7)):
        out.append((name, truth, blind_rt60(y, float("nan"))))
    return out


def test_rt60_error_on_held_out_speech(rows):
    for name, truth, r in rows:
        assert r["rt60_decays"] >= 3, name
        assert abs(r["rt60_s"] - truth) <= 0.2, (name, truth, r)


def test_rt60_orders_rooms(rows):
    by_room = {}
    for name, truth, r in rows:
        by_room.setdefault(round(truth, 2), []).append(r["rt60_s"])
    small, large = sorted(by_room)
    assert max(by_room[small]) < min(by_room[large])


def test_dry_speech_reads_short(corpus_root):
    x = load(corpus_root / SPEECH[2], 16000)
    r = blind_rt60(np.concatenate([np.zeros(8000), x, np.zeros(8000)]) + 1e-5, float("nan"))
    assert r["rt60_s"] < 0.3
