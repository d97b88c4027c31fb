"""Fit the turn-taking block (``scenario.turns``) from real conversations' RTTMs (``synth fit-turns``):
Landini et al. 2022 interval histograms (10 ms bins), measured by :mod:`synth.scene.turn_stats` (the code
that measures synthetic sets), then calibrated by simulation so a build reproduces the real statistics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import BadInput
from .turn_stats import pooled_stats, quantiles, realized_stats
from .turns import DEFAULTS, dist_mean
from ..dist import as_dist
from ..writer.rttm import read_rttm, rttm_files

BIN_S = 0.01
FEW_INTERVALS = 20   # fewer gaps or overlaps than this: their histograms are rough (fit_turns warns)


def histogram_block(values: Sequence[float], bin_s: float = BIN_S) -> dict:
    """``{histogram: {edges, counts}}`` of ``values`` in ``bin_s`` bins (empty runs merged)."""
    v = np.asarray(values, dtype=float)
    k = np.floor(v / bin_s + 1e-9).astype(int)
    lo, hi = int(k.min()), int(k.max())
    counts = np.bincount(k - lo, minlength=hi - lo + 1)
    edges, cnts = [round(lo * bin_s, 6)], []
    i = 0
    while i < len(counts):
        j = i + 1
        if counts[i] == 0:
            while j < len(counts) and counts[j] == 0:
                j += 1
        edges.append(round((lo + j) * bin_s, 6))
        cnts.append(int(counts[i]))
        i = j
    return {"histogram": {"edges": edges, "counts": cnts}}


def fit_turns(rttm_paths: Iterable[str | Path], bin_s: float = BIN_S, calibrate_sim: bool = True) -> dict:
    """The ``scenario.turns`` block fitted to the conversations in ``rttm_paths`` (files or folders).

    ``pause_same_s``, ``gap_s``, ``overlap_s``, ``backchannel_dur_s``: ``{histogram: {edges, counts}}`` (runs
    of empty bins merged); ``p_overlap``, ``p_switch``: pooled proportions; ``backchannel_rate_per_min`` and
    ``utt_dur_s``: calibrated (:func:`_interval_block`, :func:`calibrate`); ``targets``: what a set built from
    the block should reproduce (pooled, time-weighted ratios, gap/overlap quantiles) when its turns are as
    long as the real ones (``turn_dur_s``); ``fitted``: provenance, counts and the raw backchannel rate."""
    files = rttm_files(rttm_paths)
    convs: list[tuple[str, list]] = []
    for f in files:
        for uri, segs in read_rttm(f).items():
            convs.append((f"{f.name}:{uri}", segs))
    if not convs:
        raise BadInput(", ".join(map(str, files)), "contain no SPEAKER segments", "pass RTTMs with speech segments")
    return fit_conversations(convs, [str(f) for f in files], bin_s, calibrate_sim)


def fit_conversations(convs: list[tuple[str, list]], files: list[str], bin_s: float = BIN_S,
                      calibrate_sim: bool = True) -> dict:
    """The ``scenario.turns`` block fitted to conversations given as ``(name, [(speaker, start_s, end_s)])``
    (what an RTTM holds; a stereo call's per-channel speech activity gives the same); ``files``: where they
    came from (provenance)."""
    st = [realized_stats(segs) for _, segs in convs]
    P = pooled_stats(st)
    notes: list[str] = []
    block = _interval_block(P, st, bin_s, notes)
    block["targets"] = _targets(P, len(st))
    block["fitted"] = {
        "method": "Landini et al. 2022 interval histograms (10 ms bins) via synth.scene.turn_stats",
        "files": list(files),
        "n_conversations": len(convs),
        "n_speakers": [s["n_speakers"] for s in st],
        "n_turns": int(sum(s["n_turns"] for s in st)),
        "n_gaps": len(P["gaps_s"]), "n_overlaps": len(P["overlaps_s"]), "n_pauses": len(P["pauses_same_s"]),
        "n_backchannels": int(sum(s["n_backchannels"] for s in st)),
        "raw_backchannel_rate_per_min": round(P["backchannel_rate_per_min"], 4),
        "span_s": round(P["span_s"], 3),
        "bin_s": bin_s,
        "notes": notes,
    }
    few = few_intervals_warning(len(P["gaps_s"]), len(P["overlaps_s"]))
    if few:
        block["fitted"]["warnings"] = [few]
    block["dyad"] = {"backchannel_rate_shape": None}
    notes.append("dyad.backchannel_rate_shape=null: per-conversation backchannel variation is not estimated "
                 "from these files; other dyad settings keep their defaults")
    if calibrate_sim and P["turn_durs_s"]:
        n_spk = int(round(float(np.median([s["n_speakers"] for s in st]))))
        calibrate(block, max(n_spk, 2), P["span_s"] / len(st))
    return block


def _interval_block(P: dict, st: list[dict], bin_s: float, notes: list[str]) -> dict:
    """The model's distributions from the pooled statistics ``P``: interval histograms (the default where
    the RTTMs have no such interval, noted in ``notes``), probabilities, and the backchannel rate.

    The rate is not the raw count rate: real speech has 3-way overlaps and backchannels that overlap each
    other or a switch, while the simulator puts each backchannel alone in one talker's solo speech, where
    all of it is overlap. So it is set for the simulated backchannel overlap to equal the real overlap time
    not explained by switch overlaps: rate = 60 * (overlap time - switch overlaps) / (mean backchannel
    duration * solo time), solo time = speech time - switch overlaps (per minute of solo speech, as in the
    turn model); :func:`calibrate` then corrects it by simulation."""
    def hist_or_default(values: list[float], default_key: str):
        if values:
            return histogram_block(values, bin_s)
        notes.append(f"{default_key}: no such intervals in the RTTMs; default kept")
        return DEFAULTS[default_key]

    block: dict = {
        "pause_same_s": hist_or_default(P["pauses_same_s"], "pause_same_s"),
        "gap_s": hist_or_default(P["gaps_s"], "gap_s"),
        "overlap_s": hist_or_default(P["overlaps_s"], "overlap_s"),
        "p_overlap": round(P["p_overlap"], 4),
        "p_switch": round(P["p_switch"], 4) if P["p_switch"] > 0 else 1.0,
        "backchannel_dur_s": hist_or_default(P["backchannel_durs_s"], "backchannel_dur_s"),
    }
    overlap_time = sum(s["overlap_s"] for s in st)
    extra = max(overlap_time - sum(P["overlaps_s"]), 0.0)
    mean_bc = dist_mean(as_dist(block["backchannel_dur_s"]))
    solo = P["speech_s"] - sum(P["overlaps_s"])
    block["backchannel_rate_per_min"] = round(60.0 * extra / (mean_bc * solo), 4) if solo > 0 else 0.0
    if P["turn_durs_s"]:
        block["turn_dur_s"] = histogram_block(P["turn_durs_s"], bin_s)
    return block


def _targets(P: dict, n_conversations: int) -> dict:
    """The realized statistics a build from the block is checked against (``targets``)."""
    return {
        "mean_span_s": round(P["span_s"] / n_conversations, 3),
        "overlap_ratio": round(P["overlap_ratio"], 5),
        "silence_ratio": round(P["silence_ratio"], 5),
        "p_overlap": round(P["p_overlap"], 5),
        "p_switch": round(P["p_switch"], 5),
        "backchannel_rate_per_min": round(P["backchannel_rate_per_min"], 4),
        "gap_s_quantiles": quantiles(P["gaps_s"]),
        "overlap_s_quantiles": quantiles(P["overlaps_s"]),
        "mean_turn_s": round(float(np.mean(P["turn_durs_s"])), 4) if P["turn_durs_s"] else None,
        "definition": "pooled over recordings: overlap = time with >=2 speakers / speech time; "
                      "silence = time with no speaker / span (first start to last end)",
    }


def few_intervals_warning(n_gaps: int, n_overlaps: int) -> str | None:
    """One line when the gap or overlap histogram rests on fewer than ``FEW_INTERVALS`` intervals."""
    few = [f"{n} {what}" for n, what in ((n_gaps, "gaps"), (n_overlaps, "overlaps")) if n < FEW_INTERVALS]
    if not few:
        return None
    return (f"turn timing fitted from only {' and '.join(few)} (fewer than {FEW_INTERVALS}): the histograms are "
            "rough and a build repeats those few values; fit from more conversations")


def calibrate(block: dict, n_speakers: int, span_s: float, seed: int = 0, n_conv: int = 200,
              rounds: int = 4) -> dict:
    """Simulated-moments calibration of ``utt_dur_s`` and ``backchannel_rate_per_min``.

    ``utt_dur_s`` is the utterance-length distribution a speech pool must supply for simulated turns to be
    as long as the real ones (``turn_dur_s``): an utterance with overlaps planned at both ends must be long
    enough for them, which favours long utterances, so short lengths are up-weighted. The backchannel rate
    is scaled until the simulated overlap time matches the real one (placement loses some time in dense
    meetings, where solo stretches fill up). Simulates ``n_conv`` timelines of about ``span_s`` seconds with ``n_speakers`` talkers per round;
    deterministic for a given seed (every conversation has its own :func:`synth.rng.item_rng`).
    """
    from ..dist import Histogram
    from ..rng import item_rng
    from .turns import TurnModel, duration_supplier, sample_timeline

    td = as_dist(block["turn_dur_s"])
    edges = np.asarray(td.edges)
    f = np.asarray(td.counts, dtype=float) / sum(td.counts)
    h = f.copy()
    tgt = block["targets"]["overlap_ratio"]
    # length so that simulated spans match the real ones (the first turn has no boundary before it)
    target_len = max(span_s - dist_mean(td), 1.0)
    for r in range(rounds):
        m = TurnModel.from_config(block)
        supply_dist = Histogram(tuple(edges), tuple(np.maximum(h, 0.0)))
        stats, needs = [], []
        for i in range(n_conv):
            rng = item_rng(seed, f"fit-turns-{r}-{i}", "timeline")
            base = duration_supplier(rng, supply_dist)
            sup = lambda spk, need, base=base: (needs.append(need), base(spk, need))[1]  # noqa: E731
            tl = sample_timeline(rng, m, sup, n_speakers, target_len)
            stats.append(realized_stats([(t.speaker, t.start_s, t.end_s) for t in tl]))
        P = pooled_stats(stats)
        # backchannel part of the overlap: scale the rate by wanted / realized
        sw = sum(P["overlaps_s"])
        got = P["overlap_ratio"] * P["speech_s"] - sw
        want = tgt * P["speech_s"] - sw
        if got > 0 and want > 0 and block["backchannel_rate_per_min"] > 0:
            block["backchannel_rate_per_min"] = round(block["backchannel_rate_per_min"] * float(np.clip(want / got, 0.5, 2.0)), 4)
        # utterance lengths: fixed point h <- h * f / realized, realized computed from the needs seen
        k0 = np.searchsorted(edges[1:], np.asarray(needs), side="right")  # first bin that can serve
        c = np.bincount(k0[k0 < len(h)], minlength=len(h)).astype(float)
        for _ in range(50):
            tail = np.cumsum(h[::-1])[::-1]
            real = h * np.cumsum(np.where(tail > 0, c / np.maximum(tail, 1e-300), 0.0))
            real /= max(real.sum(), 1e-12)
            h = h * np.where(real > 0, f / np.maximum(real, 1e-12), 1.0)
            h /= h.sum()
    block["utt_dur_s"] = {"histogram": {"edges": [float(e) for e in edges], "counts": [round(float(x), 6) for x in h]}}
    return block


def write_yaml(block: dict, out: Path) -> None:
    import yaml

    from ..audio import atomic_write_text

    head = ("# Turn-taking block fitted by `synth fit-turns` (Landini et al. 2022 method).\n"
            "# Use as scenario.turns (e.g. `scenario.turns=<this file>` via the config loader or paste it\n"
            "# under `turns:` in a scenario/profile). `targets` and `fitted` are informational.\n")
    atomic_write_text(Path(out), head + yaml.safe_dump(block, sort_keys=False, default_flow_style=None, width=100))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth fit-turns",
                                 description="Fit the turn-taking block (scenario.turns) from real RTTMs.")
    ap.add_argument("paths", nargs="+", help="RTTM files or folders (searched recursively for *.rttm)")
    ap.add_argument("--out", default="turns.yaml", help="output YAML (default: turns.yaml)")
    ap.add_argument("--bin-s", type=float, default=BIN_S, help="histogram bin width in seconds (default 0.01)")
    a = ap.parse_args(argv)
    block = fit_turns(a.paths, a.bin_s)
    write_yaml(block, Path(a.out))
    t, f = block["targets"], block["fitted"]
    for w in f.get("warnings") or []:
        print(f"warning: {w}", file=sys.stderr)
    print(f"fitted {f['n_conversations']} conversation(s), {f['n_turns']} turns, {f['n_gaps']} gaps, "
          f"{f['n_overlaps']} overlaps, {f['n_pauses']} same-speaker pauses, {f['n_backchannels']} backchannels")
    print(f"overlap ratio {t['overlap_ratio']:.3f}  silence ratio {t['silence_ratio']:.3f}  "
          f"p(overlap|switch) {t['p_overlap']:.3f}  p(switch) {t['p_switch']:.3f}")
    print(f"wrote {a.out}")
    return 0
