"""Realized turn-taking statistics of simulated timelines against their targets (timeline only, no audio)."""

from __future__ import annotations

import numpy as np
import pytest

from synth.dist import as_dist
from synth.rng import item_rng
from synth.scene.fit_turns import fit_turns
from synth.scene.turn_stats import pooled_stats, realized_stats
from synth.scene.turns import (TurnModel, UttSpec, dist_mean, duration_supplier, implied_ratios, ks_distance,
                               sample_timeline)

N_CONV = 300


def _word_supplier(rng):
    """Utterances of log-normal length (median 3 s) with a word end every 0.2-0.5 s (cut points)."""
    def supply(spk, min_s):
        d = float(np.clip(rng.lognormal(np.log(3.0), 0.6), max(0.8, min_s), 15.0))
        ends = np.cumsum(rng.uniform(0.2, 0.5, 80))
        return UttSpec(d, tuple(float(e) for e in ends if e < d))
    return supply


def _simulate(model, supplier_for, n_speakers, target_s, seed=0):
    stats, timelines = [], []
    for i in range(N_CONV):
        rng = item_rng(seed, f"conv-{i}", "timeline")
        tl = sample_timeline(rng, model, supplier_for(rng), n_speakers, target_s)
        timelines.append(tl)
        stats.append(realized_stats(tl))
    return stats, timelines


def test_default_profile_hits_implied_targets():
    m = TurnModel.from_config({})
    stats, tls = _simulate(m, _word_supplier, 2, 60.0)
    P = pooled_stats(stats)
    turns = [t for tl in tls for t in tl if t.kind == "turn"]
    # target: what the configured distributions imply at the material's mean (post-truncation) turn length
    k = (len(turns) - N_CONV) / len(turns)  # the first turn of each conversation has no boundary before it
    tgt = implied_ratios(m, float(np.mean([t.duration_s for t in turns])), boundaries_per_turn=k)
    assert abs(P["mean_overlap_ratio"] - tgt["overlap_ratio"]) <= 0.015
    assert abs(P["mean_silence_ratio"] - tgt["silence_ratio"]) <= 0.02
    assert ks_distance(P["gaps_s"], m.gap_s) <= 0.1
    assert ks_distance(P["overlaps_s"], m.overlap_s) <= 0.1
    assert ks_distance(P["pauses_same_s"], m.pause_same_s) <= 0.1
    assert abs(P["p_overlap"] - dist_mean(m.p_overlap)) <= 0.03
    assert sum(t.interrupted for t in turns) > 100  # interruptions happened and kept the statistics


def test_fitted_profile_hits_real_rttm_ratios(corpus_root):
    cfg = fit_turns([corpus_root / "conversation"])
    m = TurnModel.from_config(cfg)
    turn_d, utt_d = as_dist(cfg["turn_dur_s"]), as_dist(cfg["utt_dur_s"])
    n_spk = int(np.median(cfg["fitted"]["n_speakers"]))
    # like for like: simulated spans as long as the real recordings (the last turn overshoots the target)
    target_s = cfg["targets"]["mean_span_s"] - dist_mean(turn_d)
    stats, _ = _simulate(m, lambda rng: duration_supplier(rng, utt_d), n_spk, target_s, seed=1)
    P = pooled_stats(stats)
    t = cfg["targets"]
    assert abs(P["overlap_ratio"] - t["overlap_ratio"]) <= 0.015
    assert abs(P["silence_ratio"] - t["silence_ratio"]) <= 0.02
    assert ks_distance(P["gaps_s"], m.gap_s) <= 0.1
    assert ks_distance(P["overlaps_s"], m.overlap_s) <= 0.1
    assert ks_distance(P["turn_durs_s"], turn_d) <= 0.1  # the material matched the real turn lengths


def test_timeline_is_well_formed_and_deterministic():
    m = TurnModel.from_config({"p_interrupt": 1.0})
    a = sample_timeline(item_rng(3, "x", "t"), m, _word_supplier(item_rng(3, "x", "u")), 2, 120.0)
    b = sample_timeline(item_rng(3, "x", "t"), m, _word_supplier(item_rng(3, "x", "u")), 2, 120.0)
    assert a == b
    turns = [t for t in a if t.kind == "turn"]
    assert turns[0].start_s == 0.0 and turns[-1].end_s >= 120.0
    for p, n in zip(turns, turns[1:]):
        assert n.end_s > p.end_s  # no turn is swallowed by the previous one
        if p.interrupted:
            assert n.start_s < p.end_s and p.end_s - p.start_s == pytest.approx(p.truncate_at_s)
    for bc in (t for t in a if t.kind == "backchannel"):
        host = [t for t in turns if t.start_s < bc.start_s and bc.end_s < t.end_s and t.speaker != bc.speaker]
        assert host, "a backchannel lies inside another speaker's turn"
    st = realized_stats(a)
    assert st["n_backchannels"] == sum(t.kind == "backchannel" for t in a)
    assert st["n_turns"] == len(turns)


def test_meeting_uses_every_other_speaker_and_dyad_varies():
    m = TurnModel.from_config({"dyad": {"participation_alpha": None}})  # equal participation
    tl = sample_timeline(item_rng(0, "m", "t"), m, [[2.0, 3.0, 4.0]] * 6, 6, 300.0)
    turns = [t for t in tl if t.kind == "turn"]
    assert {t.speaker for t in turns} == set(range(6))
    assert all(a.speaker != b.speaker for a, b in zip(turns, turns[1:]) if b.transition in ("gap", "overlap"))
    # per-conversation gap medians differ more than sampling noise alone would make them (timing_icc)
    med = lambda icc: np.std([np.median(realized_stats(sample_timeline(  # noqa: E731
        item_rng(1, f"c{i}", "t"), TurnModel.from_config({"dyad": {"timing_icc": icc}}), [[3.0]] * 2, 2, 200.0))["gaps_s"])
        for i in range(40)])
    assert med(0.6) > 1.5 * med(0.0)


def test_bad_turn_config_names_key():
    from synth.errors import ConfigError
    with pytest.raises(ConfigError, match="scenario.turns: unknown key"):
        TurnModel.from_config({"gap": 0.2})
    with pytest.raises(ConfigError, match="p_overlap"):
        TurnModel.from_config({"p_overlap": 1.5})
