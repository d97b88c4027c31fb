"""Turn-taking model: who talks when in a conversation or meeting (a timeline of turns, no audio).

At each boundary a turn hold (``pause_same_s``), a switch with a gap (``gap_s``) or a switch with overlap
(``overlap_s``, which may interrupt the current utterance at a word end); backchannels go inside another
talker's solo speech (Landini et al. 2022). Durations are config distributions in seconds (keys and sources:
``conf/scenario/conversation.yaml``; fitted ones: :mod:`synth.scene.fit_turns`). Entry: :func:`sample_timeline`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from scipy import special, stats

from ..dist import (Choice, Const, Dist, Gamma, Histogram, LogNormal, LogUniform, Normal, Uniform,
                    dist_field, number_field, plain_value)
from ..errors import ConfigError
from .turn_stats import merge_same_speaker, speaker_count_profile

# ---------------------------------------------------------------------------------------------------
# quantile function of a config distribution (deterministic, used by the copula and by the tests)


def ppf(d: Dist, u: np.ndarray | float) -> np.ndarray:
    """Inverse CDF of a numeric :class:`Dist` at probabilities ``u`` in (0, 1)."""
    u = np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12)
    if isinstance(d, Const):
        return np.full_like(u, float(d.value))
    if isinstance(d, Uniform):
        return d.lo + u * (d.hi - d.lo)
    if isinstance(d, LogUniform):
        return np.exp(np.log(d.lo) + u * (np.log(d.hi) - np.log(d.lo)))
    clip = getattr(d, "clip", None)
    if isinstance(d, Normal):
        x = d.mean + d.sd * special.ndtri(u)
    elif isinstance(d, LogNormal):
        x = d.median * np.exp(d.sigma * special.ndtri(u))
    elif isinstance(d, Gamma):
        x = stats.gamma.ppf(u, d.shape, scale=d.scale)
    elif isinstance(d, Histogram):
        c = np.concatenate([[0.0], np.cumsum(np.asarray(d.counts, dtype=float))])
        c /= c[-1]
        e = np.asarray(d.edges, dtype=float)
        k = np.clip(np.searchsorted(c, u, side="right") - 1, 0, len(d.counts) - 1)
        w = np.where(c[k + 1] > c[k], (u - c[k]) / np.maximum(c[k + 1] - c[k], 1e-300), 0.0)
        return e[k] + w * (e[k + 1] - e[k])
    elif isinstance(d, Choice) and all(isinstance(v, (int, float)) for v in d.values):
        order = np.argsort(np.asarray(d.values, dtype=float))
        vals = np.asarray(d.values, dtype=float)[order]
        c = np.cumsum(d.probabilities()[order])
        return vals[np.minimum(np.searchsorted(c, u, side="left"), len(vals) - 1)]
    else:
        raise ConfigError(f"turn model: {d.to_config()!r} is not a numeric distribution")
    return x if clip is None else np.clip(x, clip[0], clip[1])


def dist_mean(d: Dist) -> float:
    """Mean of a numeric distribution (midpoint rule over 20,000 quantiles; exact for histograms' bins)."""
    u = (np.arange(20000) + 0.5) / 20000
    return float(np.mean(ppf(d, u)))


def ks_distance(samples: Sequence[float], d: Dist) -> float:
    """Kolmogorov-Smirnov distance between ``samples`` and distribution ``d`` (CDF via 20,001 quantiles)."""
    x = np.sort(np.asarray(samples, dtype=float))
    if len(x) == 0:
        return float("nan")
    q = ppf(d, np.linspace(0.0, 1.0, 20001))
    # target CDF at the sample points (right- and left-continuous), by inverting the quantile grid
    f_hi = np.searchsorted(q, x, side="right") / len(q)
    f_lo = np.searchsorted(q, x, side="left") / len(q)
    n = len(x)
    emp_hi = np.arange(1, n + 1) / n
    emp_lo = np.arange(0, n) / n
    return float(max(np.max(np.abs(emp_hi - f_hi)), np.max(np.abs(emp_lo - f_lo))))


# ---------------------------------------------------------------------------------------------------
# the model and its config block

DEFAULTS: dict[str, Any] = {
    # see conf/scenario/conversation.yaml for the sources of these numbers
    "pause_same_s": {"lognormal": [0.45, 0.6], "clip": [0.05, 7.0]},
    "gap_s": {"lognormal": [0.3, 0.8], "clip": [0.01, 7.0]},
    "overlap_s": {"lognormal": [0.5, 0.7], "clip": [0.02, 5.0]},
    "p_overlap": 0.4,
    "p_switch": 0.7,
    "p_interrupt": 0.5,
    "backchannel_rate_per_min": 4.5,
    "backchannel_dur_s": {"lognormal": [0.35, 0.35], "clip": [0.15, 1.2]},
    "min_kept_s": 0.5,
    "dyad": {"timing_icc": 0.2, "p_overlap_concentration": 20.0, "backchannel_rate_shape": 4.0,
             "participation_alpha": 3.0},
}
INFO_KEYS = ("targets", "fitted", "turn_dur_s", "utt_dur_s")  # written by fit-turns; informational for the sampler
DYAD_KEYS = ("timing_icc", "p_overlap_concentration", "backchannel_rate_shape", "participation_alpha")

MIN_SOLO_S = 0.05  # every turn keeps at least this much speech that nobody else overlaps
BC_MARGIN_S = 0.02  # a backchannel starts/ends at least this far inside the host's solo part


@dataclass(frozen=True)
class TurnModel:
    """Parsed turns config block (keys: ``conf/scenario/conversation.yaml``); build with :meth:`from_config`."""

    pause_same_s: Dist
    gap_s: Dist
    overlap_s: Dist
    p_overlap: Dist
    p_switch: Dist
    p_interrupt: float
    backchannel_rate_per_min: Dist
    backchannel_dur_s: Dist
    min_kept_s: float
    timing_icc: float
    p_overlap_concentration: float | None
    backchannel_rate_shape: float | None
    participation_alpha: float | None
    info: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: "Mapping | str | Path | None" = None, name: str = "scenario.turns") -> "TurnModel":
        """From a turns block, or from the path of a YAML file holding one (what ``synth fit-turns`` writes)."""
        raw = read_turns_file(cfg, name) if isinstance(cfg, (str, Path)) else plain_value(cfg or {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{name}={raw!r}: expected a turns block (a mapping) or the path of a file written "
                              "by `synth fit-turns`")
        unknown = set(raw) - set(DEFAULTS) - set(INFO_KEYS)
        if unknown:
            raise ConfigError(f"{name}: unknown key(s) {sorted(unknown)}; allowed: "
                              f"{sorted(set(DEFAULTS) | set(INFO_KEYS))}")
        c = {**DEFAULTS, **raw}
        dyad = {**DEFAULTS["dyad"], **plain_value(c.get("dyad") or {})}
        bad = set(dyad) - set(DYAD_KEYS)
        if bad:
            raise ConfigError(f"{name}.dyad: unknown key(s) {sorted(bad)}; allowed: {list(DYAD_KEYS)}")
        icc = number_field(f"{name}.dyad.timing_icc", dyad["timing_icc"] or 0.0, 0.0, 1.0, hi_open=True)
        # optional dyad spreads: null or 0 disables; else > 0
        opt = {k: None if dyad[k] in (None, 0) else number_field(f"{name}.dyad.{k}", dyad[k], 1e-9, 1e9)
               for k in ("p_overlap_concentration", "backchannel_rate_shape", "participation_alpha")}
        p_int = number_field(f"{name}.p_interrupt", c["p_interrupt"], 0.0, 1.0)
        return cls(
            pause_same_s=dist_field(f"{name}.pause_same_s", c["pause_same_s"], 0.0, 600.0),
            gap_s=dist_field(f"{name}.gap_s", c["gap_s"], 0.0, 600.0),
            overlap_s=dist_field(f"{name}.overlap_s", c["overlap_s"], 0.0, 60.0),
            p_overlap=dist_field(f"{name}.p_overlap", c["p_overlap"], 0.0, 1.0),
            p_switch=dist_field(f"{name}.p_switch", c["p_switch"], 0.0, 1.0),
            p_interrupt=p_int,
            backchannel_rate_per_min=dist_field(f"{name}.backchannel_rate_per_min",
                                                c["backchannel_rate_per_min"], 0.0, 600.0),
            backchannel_dur_s=dist_field(f"{name}.backchannel_dur_s", c["backchannel_dur_s"], 0.01, 60.0),
            min_kept_s=number_field(f"{name}.min_kept_s", c["min_kept_s"], 0.0, 600.0),
            timing_icc=icc,
            **opt,
            info={k: raw[k] for k in INFO_KEYS if k in raw},
        )


def read_turns_file(path: "str | Path", name: str = "scenario.turns") -> dict:
    """The turns block in a YAML file written by ``synth fit-turns --out <file>``."""
    import yaml

    fix = "pass a file written by `synth fit-turns <rttms> --out <file>`, or a turns block"
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"{name}={path}: no such file; {fix}")
    try:
        block = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
        raise ConfigError(f"{name}={path}: cannot be read as YAML ({' '.join(str(e).split())[:120]}); {fix}") from None
    keys = set(block) if isinstance(block, dict) else set()
    if not keys & set(DEFAULTS) or keys - set(DEFAULTS) - set(INFO_KEYS):
        found = sorted(map(str, keys))[:8] if keys else type(block).__name__
        raise ConfigError(f"{name}={path}: is not a turns file (found {found}, expected keys such as gap_s, "
                          f"overlap_s, p_overlap); {fix}")
    return block


def as_model(turns_cfg: "TurnModel | Mapping | None") -> TurnModel:
    return turns_cfg if isinstance(turns_cfg, TurnModel) else TurnModel.from_config(turns_cfg)


# ---------------------------------------------------------------------------------------------------
# timeline


@dataclass(frozen=True)
class UttSpec:
    """What the timeline needs to know about one utterance: its duration (s), the times (s, from the
    utterance start) where it may be cut without cutting a word (``cut_points_s``; None = never cut),
    and an opaque ``ref`` the caller uses to find the utterance again."""

    duration_s: float
    cut_points_s: tuple[float, ...] | None = None
    ref: Any = None


@dataclass(frozen=True)
class Turn:
    """One placed utterance. ``kind`` is "turn" or "backchannel"; ``transition`` how it started
    ("first", "pause", "gap", "overlap", "backchannel"); ``truncate_at_s`` is the utterance-relative
    time where an interrupted utterance was cut (None if played whole), and ``end_s`` already reflects it.
    ``interrupted_by`` is the index (in the returned list) of the turn that interrupted it."""

    speaker: int
    start_s: float
    end_s: float
    kind: str = "turn"
    transition: str = "first"
    full_duration_s: float = 0.0
    truncate_at_s: float | None = None
    interrupted: bool = False
    ref: Any = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


Supplier = Callable[[int, float], "UttSpec | float"]
BackchannelSupplier = Callable[[int, float], "UttSpec | float | None"]


def cycling_supplier(durations_by_speaker: Mapping[int, Sequence[float]] | Sequence[Sequence[float]]) -> Supplier:
    """Supplier over fixed per-speaker lists: the first unused item (in order) at least ``min_duration_s``
    long, else the longest unused one; when a speaker's list is used up it starts over."""
    seqs = dict(durations_by_speaker) if isinstance(durations_by_speaker, Mapping) else dict(enumerate(durations_by_speaker))
    left: dict[int, list[int]] = {k: [] for k in seqs}

    def supply(spk: int, min_duration_s: float = 0.0) -> UttSpec:
        seq = [_spec(x) for x in seqs[spk]]
        if not seq:
            raise ConfigError(f"speaker {spk} has no utterances")
        if not left[spk]:
            left[spk] = list(range(len(seq)))
        q = left[spk]
        i = next((i for i in q if seq[i].duration_s >= min_duration_s), None)
        if i is None:
            i = max(q, key=lambda j: seq[j].duration_s)
        q.remove(i)
        return seq[i]

    return supply


def _spec(x: "UttSpec | float") -> UttSpec:
    return x if isinstance(x, UttSpec) else UttSpec(float(x))


class _Conv:
    """Per-conversation draws and the deferred-draw queues.

    Conversations differ more than turns do (the dyad effect; Cavalcanti & Skantze 2025), so ``dyad`` draws
    once per conversation: latent normals z_gap, z_pause, z_overlap, and every interval is
    F^-1(Phi(rho z + sqrt(1 - rho^2) e)) with rho^2 = ``timing_icc`` (a Gaussian copula: a "fast" or "slow"
    dyad, while the pooled distribution over conversations stays exactly the configured one); P(overlap|switch)
    ~ Beta(``p_overlap_concentration``) around the configured mean; the backchannel rate x
    Gamma(``backchannel_rate_shape``, 1/shape); meetings: Dirichlet(``participation_alpha``) weights for who
    takes the next turn."""

    def __init__(self, rng: np.random.Generator, m: TurnModel, n_speakers: int):
        self.rng, self.m = rng, m
        self.rho = float(np.sqrt(m.timing_icc))
        self.z = {k: float(rng.standard_normal()) for k in ("gap", "pause", "overlap", "bc")}
        p0 = float(m.p_overlap.sample(rng))
        k = m.p_overlap_concentration
        self.p_overlap = float(rng.beta(k * p0, k * (1 - p0))) if k and 0.0 < p0 < 1.0 else p0
        self.p_switch = float(m.p_switch.sample(rng)) if n_speakers > 1 else 0.0
        r0 = float(m.backchannel_rate_per_min.sample(rng))
        s = m.backchannel_rate_shape
        self.bc_rate = r0 * float(rng.gamma(s, 1.0 / s)) if s else r0
        a = m.participation_alpha
        self.weights = rng.dirichlet(np.full(n_speakers, a)) if a and n_speakers > 2 else np.full(n_speakers, 1.0 / n_speakers)
        self.pending: dict[str, list[float]] = {"overlap": [], "bc": []}

    def draw(self, kind: str, d: Dist) -> float:
        e = self.rng.standard_normal()
        u = special.ndtr(self.rho * self.z[kind] + np.sqrt(1 - self.rho ** 2) * e)
        return float(ppf(d, u))

    def draw_fitting(self, kind: str, d: Dist, limit: float, tries: int = 40) -> float | None:
        """A draw below ``limit``: the oldest queued one that fits, else fresh draws (misfits are queued)."""
        q = self.pending[kind]
        for i, v in enumerate(q):
            if v < limit:
                return q.pop(i)
        for _ in range(tries):
            v = self.draw(kind, d)
            if v < limit:
                return v
            if len(q) < 64:
                q.append(v)
        return None

    def next_speaker(self, cur: int, n: int) -> int:
        others = [s for s in range(n) if s != cur]
        w = self.weights[others] / self.weights[others].sum()
        return others[int(self.rng.choice(len(others), p=w))]


def sample_timeline(rng: np.random.Generator, turns_cfg: "TurnModel | Mapping | None",
                    utterances: "Supplier | Mapping[int, Sequence[float]] | Sequence[Sequence[float]]",
                    n_speakers: int, target_duration_s: float, *,
                    backchannels: BackchannelSupplier | None = None,
                    first_speaker: int | None = None, all_speak: bool = False,
                    end_s: float | None = None) -> list[Turn]:
    """Place utterances of ``n_speakers`` talkers on a timeline of about ``target_duration_s`` seconds.

    ``utterances``: a callable ``(speaker_index, min_duration_s) -> UttSpec | duration_s`` giving that
    speaker's next utterance, preferably at least ``min_duration_s`` long (room for the overlaps
    already planned at both of its ends; return the best you have if none is that long), or
    per-speaker duration lists (used in order, skipping ahead to the first one long enough).
    ``backchannels``: callable ``(listener_index, wanted_duration_s) -> UttSpec | duration | None``
    giving a short utterance for a backchannel (None = that listener has none; the backchannel is
    dropped); default: any duration is available (timeline-only use).

    The boundary *after* a turn (pause, gap or overlap, and who speaks next) is drawn before that
    turn's utterance is chosen, so an utterance long enough for both of its overlaps can be asked for.
    Turns are added until the timeline reaches ``target_duration_s`` (the last turn is kept whole, so
    the result is slightly longer) and, with ``all_speak``, until every talker has had a turn (a call
    where the customer never speaks is not a conversation; capped at 3x the target). The first turn
    starts at 0. ``end_s``: the recording has a fixed length and ends there; the turn running past it stops
    at its last cut point before ``end_s`` or is left out (with everything after it), and backchannels are
    placed in what is kept. Returns turns and backchannels sorted by start time.
    """
    m = as_model(turns_cfg)
    if n_speakers < 1:
        raise ConfigError(f"n_speakers={n_speakers}: need at least one talker")
    supply = utterances if callable(utterances) else cycling_supplier(utterances)
    cv = _Conv(rng, m, n_speakers)
    first = first_speaker if first_speaker is not None else int(rng.choice(n_speakers, p=cv.weights))
    turns = _place_turns(rng, m, cv, supply, n_speakers, first, target_duration_s, all_speak)
    if end_s is not None:
        turns = _end_at(turns, end_s)
    bcs, wanted = _place_backchannels(rng, m, cv, turns, n_speakers, backchannels)
    if wanted is not None:
        _switch_overlaps(cv, m, turns, bcs, wanted)
    out = [Turn(speaker=t["speaker"], start_s=t["start"], end_s=t["end"], kind="turn", transition=t["transition"],
                full_duration_s=t["spec"].duration_s, truncate_at_s=t["cut"],
                interrupted=t["cut"] is not None and not t.get("ended"), ref=t["spec"].ref) for t in turns]
    out += [b for b, _ in bcs]
    out.sort(key=lambda t: (t.start_s, t.end_s))
    return out


def _place_turns(rng: np.random.Generator, m: TurnModel, cv: _Conv, supply: Supplier, n_speakers: int, spk: int,
                 target_duration_s: float, all_speak: bool) -> list[dict]:
    """The turns, one after another from 0 s, as dicts (speaker, start, end, transition, spec, in_ov, out_ov,
    cut). The boundary after a turn is planned before its utterance is asked for (:func:`_plan_boundary`);
    an utterance too short for a planned overlap turns that boundary into a gap (:func:`_drop_overlap_into`)
    or takes a shorter overlap that fits. The overlap draw left unused at the end is queued.

    A drawn overlap must fit (shorter than the part of the current turn not already overlapped and than the
    new turn), else the timeline would hold a 3-way overlap or a swallowed turn and the *measured* statistics
    would differ from the drawn ones. A draw that does not fit waits in a queue for the next overlap where
    it fits (redrawing would bias overlaps short); backchannels likewise. So the timeline, measured by
    :func:`synth.scene.turn_stats.realized_stats`, reproduces the configured gap, pause and overlap
    distributions and p_overlap; the overlap and silence ratios follow from these and from the length of the
    speech material (:func:`implied_ratios`)."""
    turns: list[dict] = []
    start, in_ov, how = 0.0, 0.0, "first"
    while True:
        nxt, kind, o = _plan_boundary(rng, m, cv, spk, n_speakers)
        need = in_ov + o + 2 * MIN_SOLO_S
        u = _spec(supply(spk, need))
        if u.duration_s < in_ov + 2 * MIN_SOLO_S and turns:
            start = _drop_overlap_into(cv, m, turns[-1], in_ov)
            in_ov, how = 0.0, "gap"
        if kind == "overlap" and u.duration_s < in_ov + o + 2 * MIN_SOLO_S:
            cv.pending["overlap"].append(o)  # keep the draw for a boundary where it fits
            o2 = cv.draw_fitting("overlap", m.overlap_s, u.duration_s - in_ov - 2 * MIN_SOLO_S)
            kind, o = ("overlap", o2) if o2 is not None else ("gap", 0.0)
        t = dict(speaker=spk, start=start, end=start + u.duration_s, transition=how, spec=u, in_ov=in_ov,
                 out_ov=0.0, cut=None)
        turns.append(t)
        if _long_enough(turns, target_duration_s, n_speakers, all_speak):
            if kind == "overlap":
                cv.pending["overlap"].append(o)
            return turns
        start = _next_start(rng, m, cv, t, kind, o)
        spk, in_ov, how = nxt, o, kind


def _plan_boundary(rng: np.random.Generator, m: TurnModel, cv: _Conv, spk: int,
                   n_speakers: int) -> tuple[int, str, float]:
    """The boundary after a turn of ``spk``: (next speaker, "pause" | "gap" | "overlap", overlap in s or 0)."""
    switch = n_speakers > 1 and rng.random() < cv.p_switch
    nxt = cv.next_speaker(spk, n_speakers) if switch else spk
    kind = ("overlap" if rng.random() < cv.p_overlap else "gap") if switch else "pause"
    o = cv.draw_fitting("overlap", m.overlap_s, np.inf) if kind == "overlap" else 0.0
    return nxt, kind, o


def _drop_overlap_into(cv: _Conv, m: TurnModel, prev: dict, in_ov: float) -> float:
    """The overlap planned between ``prev`` and the next turn does not fit the next utterance: the boundary
    becomes a gap (an interruption of ``prev`` no longer happens; the overlap draw is queued). Returns the
    next turn's start."""
    cv.pending["overlap"].append(in_ov)
    if prev["cut"] is not None:  # an interruption that no longer happens
        prev["end"], prev["cut"] = prev["start"] + prev["spec"].duration_s, None
    prev["out_ov"] = 0.0
    return prev["end"] + cv.draw("gap", m.gap_s)


def _long_enough(turns: list[dict], target_duration_s: float, n_speakers: int, all_speak: bool) -> bool:
    """The timeline reached the target (and, with ``all_speak``, every talker spoke, up to 3x the target)."""
    end = turns[-1]["end"]
    done = end >= target_duration_s
    if done and all_speak and end < 3 * target_duration_s:
        done = len({x["speaker"] for x in turns}) == n_speakers
    return done


def _next_start(rng: np.random.Generator, m: TurnModel, cv: _Conv, t: dict, kind: str, o: float) -> float:
    """Start of the turn after ``t``. An overlap may interrupt ``t`` (``p_interrupt``, when it has cut points):
    ``t`` stops at a word end and the newcomer starts ``o`` before that cut, so the overlap is still ``o``."""
    if kind == "overlap":
        cut = _interrupt_cut(rng, m, t, o) if rng.random() < m.p_interrupt else None
        if cut is not None:
            t["end"], t["cut"] = t["start"] + cut, cut
        t["out_ov"] = o
        return t["end"] - o
    if kind == "gap":
        return t["end"] + cv.draw("gap", m.gap_s)
    return t["end"] + cv.draw("pause", m.pause_same_s)


def _end_at(turns: list[dict], end_s: float) -> list[dict]:
    """The turns of a fixed-length recording that ends at ``end_s``: a turn running past it stops at its last
    cut point before ``end_s`` (flagged ``ended``) or is left out, as is everything after it; the overlaps
    at the ends (``in_ov``/``out_ov``) are measured again on what is kept."""
    kept: list[dict] = []
    for t in turns:
        if t["start"] >= end_s:
            break
        if t["end"] > end_s:
            cuts = [c for c in t["spec"].cut_points_s or () if t["start"] + c <= end_s]
            if not cuts:
                break
            t["end"], t["cut"], t["ended"] = t["start"] + max(cuts), max(cuts), True
        if kept and t["end"] < kept[-1]["end"] + MIN_SOLO_S:  # would end inside the previous turn
            break
        kept.append(t)
    for a, b in zip(kept, kept[1:]):
        a["out_ov"] = b["in_ov"] = max(a["end"] - b["start"], 0.0)
    if kept:
        kept[-1]["out_ov"] = 0.0
    return kept


def _interrupt_cut(rng: np.random.Generator, m: TurnModel, prev: dict, o: float) -> float | None:
    """Where the interrupted previous utterance stops: a permissible cut point (word end) that leaves
    at least ``min_kept_s`` of it and room for its own solo part before the overlap; None = no cut."""
    cuts = prev["spec"].cut_points_s
    if not cuts:
        return None
    full = prev["spec"].duration_s
    lo = max(m.min_kept_s, prev["in_ov"] + o + MIN_SOLO_S)
    ok = [c for c in cuts if lo <= c < full - 0.05]
    return float(ok[int(rng.integers(len(ok)))]) if ok else None


def _place_backchannels(rng, m: TurnModel, cv: _Conv, turns: list[dict], n_speakers: int,
                        supplier: BackchannelSupplier | None) -> tuple[list[tuple[Turn, int]], float | None]:
    """Backchannels inside the solo parts of turns (the host talks alone there), by other speakers.
    Returns them with the index of their host turn, and the overlap ratio aimed at (None without targets).

    The count is the expected count rate x solo time, randomly rounded (no Poisson spread: the
    solo time bounds how much fits, and a random count would overfill some conversations and underfill
    others); durations are drawn as configured.
    A listener's own backchannels never touch each other, but two listeners may react at once
    (meetings), which adds less overlap time than their durations, and a drawn duration that fits in no
    solo part is queued for later: the lost overlap time is made up by further draws until the budget
    is used up (the last one kept if that lands closer to it; the supplier may return a longer or
    shorter utterance than drawn, and the time actually placed is what counts). In dense meetings the count rate
    is then higher and the placed durations shorter than configured (realized_stats reports both).
    """
    if n_speakers < 2 or cv.bc_rate <= 0:
        return [], None
    budget, target = _backchannel_budget(m, cv, turns)
    slots = _BackchannelSlots(rng, cv, turns, n_speakers, supplier)
    mean_s = dist_mean(m.backchannel_dur_s)
    expected_n = budget / mean_s
    n = int(expected_n) + int(rng.random() < expected_n - int(expected_n))  # E[n] = expected_n
    deficit, gain = budget, 0.0  # backchannel time still to place (placed utterances may differ from the drawn lengths)
    steered = target is not None  # open loop: the first n draws are all placed (the configured count rate)
    for d in [cv.draw("bc", m.backchannel_dur_s) for _ in range(n)]:
        gain = slots.place(d, deficit if steered else np.inf) if deficit > 1e-9 or not steered else None
        if gain is None:
            break
        deficit -= gain
    for _ in range(int(20 * budget / mean_s) + 20):  # make up what the drawn ones could not place
        if deficit <= 1e-9 or gain is None:
            break
        longest = slots.longest_free(n_speakers > 2)
        d = cv.draw_fitting("bc", m.backchannel_dur_s, longest) if longest > 0 else None
        gain = slots.place(d, deficit) if d is not None else None
        deficit -= gain or 0.0
    return slots.placed, target


def _backchannel_budget(m: TurnModel, cv: _Conv, turns: list[dict]) -> tuple[float, float | None]:
    """(backchannel time to place in s, overlap ratio aimed at or None). Open loop: the expected time,
    rate x solo time x mean duration. With ``targets.overlap_ratio``: the overlap time still missing for the
    target after the switch overlaps, scaled by the dyad's rate factor (conversations still differ). Even with
    ideal material the open loop falls ~3 points short for two talkers (backchannels only fit in solo
    stretches, and the last switch overlaps are lost at the end); what backchannels cannot supply,
    :func:`_switch_overlaps` makes up."""
    solo = sum(t["end"] - t["start"] - t["in_ov"] - t["out_ov"] for t in turns)  # one talker, alone
    budget = cv.bc_rate * solo / 60.0 * dist_mean(m.backchannel_dur_s)  # expected backchannel time
    target = (m.info.get("targets") or {}).get("overlap_ratio")
    if target is not None:  # closed loop: the overlap time this conversation still needs for the target ratio
        switch_ov = sum(t["out_ov"] for t in turns)
        rate_mean = dist_mean(m.backchannel_rate_per_min)
        spread = cv.bc_rate / rate_mean if rate_mean > 0 else 1.0  # the dyad's rate factor (1 without spread)
        budget = max(float(target) * (solo + switch_ov) - switch_ov, 0.0) * spread
        target = (switch_ov + budget) / (solo + switch_ov) if solo + switch_ov > 0 else None  # ratio aimed at
    return budget, target


class _BackchannelSlots:
    """The solo parts of the turns (regions, ``BC_MARGIN_S`` inside each) and the backchannels placed in
    them so far (``placed``: (Turn, host turn index))."""

    def __init__(self, rng: np.random.Generator, cv: _Conv, turns: list[dict], n_speakers: int,
                 supplier: BackchannelSupplier | None):
        self.rng, self.cv, self.n_speakers, self.supplier = rng, cv, n_speakers, supplier
        spans = [(t["start"] + t["in_ov"] + BC_MARGIN_S, t["end"] - t["out_ov"] - BC_MARGIN_S, t["speaker"], k)
                 for k, t in enumerate(turns)]
        self.regions = [r[:3] for r in spans if r[1] > r[0]]
        self.host_turn = [r[3] for r in spans if r[1] > r[0]]  # index in ``turns`` of each region's host
        self.inside: list[list[tuple[float, float, int]]] = [[] for _ in self.regions]
        self.placed: list[tuple[Turn, int]] = []

    def free_gaps(self, i: int) -> list[tuple[float, float]]:
        """Parts of region ``i`` that a new backchannel may fill without touching an earlier one."""
        a, b, _ = self.regions[i]
        out, t = [], a
        for s, e in _union([(s - 1.01 * BC_MARGIN_S, e + 1.01 * BC_MARGIN_S) for s, e, _ in self.inside[i]]):
            if s > t:
                out.append((t, s))
            t = max(t, e)
        return out + [(t, b)] if b > t else out

    def longest_free(self, share: bool) -> float:
        """The longest free stretch (``share``, meetings: a listener may also join another's backchannel)."""
        longest = max((g1 - g0 for i in range(len(self.regions)) for g0, g1 in self.free_gaps(i)), default=0.0)
        if share:
            longest = max([longest] + [b - a for a, b, _ in self.regions])
        return longest

    def covered(self, i: int, start: float, end: float) -> float:
        """Time of [start, end) already covered by backchannels in region ``i``."""
        return sum(max(0.0, min(e, end) - max(s, start)) for s, e in _union([(s, e) for s, e, _ in self.inside[i]]))

    def place(self, d: float, remaining: float) -> float | None:
        """Put a backchannel of ``d`` s at the best spot (:meth:`best_spot`); returns the overlap time it adds,
        or None when it would overshoot ``remaining`` by more than leaving it out (the last one is kept if that
        lands closer to the budget)."""
        spot = self.best_spot(d)
        if spot is None:
            return 0.0
        (_, i, start, busy), bounds = spot
        a, b, _ = self.regions[i]
        a, b = bounds or (a, b)
        free = [x for x in range(self.n_speakers) if x not in busy]
        w = self.cv.weights[free] / self.cv.weights[free].sum()
        listener = free[int(self.rng.choice(len(free), p=w))]
        spec = UttSpec(d) if self.supplier is None else self.supplier(listener, d)
        if spec is None:
            return 0.0
        spec = _spec(spec)
        start = max(a, min(start, b - spec.duration_s))  # a supplied utterance longer than drawn ends by b
        end = start + spec.duration_s
        if spec.duration_s <= 0 or end > b or any(l == listener and s < end + BC_MARGIN_S and e > start - BC_MARGIN_S
                                                  for s, e, l in self.inside[i]):
            return 0.0
        gain = spec.duration_s - self.covered(i, start, end)
        if gain - remaining > remaining:
            return None
        self.inside[i].append((start, end, listener))
        self.placed.append((Turn(speaker=listener, start_s=start, end_s=end, kind="backchannel",
                                 transition="backchannel", full_duration_s=spec.duration_s, ref=spec.ref),
                            self.host_turn[i]))
        return gain

    def best_spot(self, d: float):
        """((new overlap time, region, start, speakers busy there), free stretch or None) for a backchannel of
        ``d`` s: a random free stretch where nobody backchannels yet, else the best of a few random spots (most
        new overlap time), sharing time with another listener's backchannel (meetings). A spot that runs into
        earlier backchannels is also tried moved to just after them: packing them side by side (with
        ``BC_MARGIN_S`` between) fills a host's solo part more densely than random spots alone do.
        None: no spot."""
        regions, inside, rng = self.regions, self.inside, self.rng
        fits = [i for i, (a, b, _) in enumerate(regions) if b - a > d]
        if not fits:
            return None
        gaps = [(i, g0, g1) for i in fits for g0, g1 in self.free_gaps(i) if g1 - g0 > d]
        room = np.array([g1 - g0 - d for _, g0, g1 in gaps] or [regions[i][1] - regions[i][0] - d for i in fits])
        best, bounds = None, None
        if gaps:  # a spot where nobody backchannels yet
            i, g0, g1 = gaps[int(rng.choice(len(gaps), p=room / room.sum()))]
            best, bounds = (d, i, g0 + float(rng.uniform(0.0, g1 - g0 - d)), {regions[i][2]}), (g0, g1)
        for _ in range(0 if gaps else 32):  # else share time with another listener's backchannel (meetings)
            i = fits[int(rng.choice(len(fits), p=room / room.sum()))]
            a, b, host = regions[i]
            start = a + float(rng.uniform(0.0, (b - a) - d))
            clash = [e for s, e, _ in inside[i] if s < start + d + BC_MARGIN_S and e > start - BC_MARGIN_S]
            for start in [start] + ([max(clash) + 1.5 * BC_MARGIN_S] if clash else []):
                if start + d > b:
                    continue
                busy = {host} | {l for s, e, l in inside[i] if s < start + d + BC_MARGIN_S and e > start - BC_MARGIN_S}
                if len(busy) >= self.n_speakers:
                    continue
                covered = self.covered(i, start, start + d)
                if best is None or d - covered > best[0]:
                    best = (d - covered, i, start, busy)
            if best is not None and best[0] >= d:
                break
        return None if best is None else (best, bounds)


def _switch_overlaps(cv: _Conv, m: TurnModel, turns: list[dict], bcs: list[tuple[Turn, int]],
                     ratio: float) -> None:
    """Closed loop, second stage: overlap time the backchannels could not supply (listeners without short
    enough speech, hosts' solo parts full) is made up by turning switches with a gap into switches with
    overlap, in random order: the newcomer starts ``overlap_s`` (a draw that fits both turns) before the
    current turn ends and everything after moves earlier. Backchannels the new overlap would run into
    are left out. Only a shortfall beyond the rounding of the backchannel stage (half a mean backchannel)
    is made up, so with ample material nothing changes. This raises the conversation's P(overlap|switch)
    and lowers its silence; the overlap durations keep their distribution. ``ratio``: the overlap ratio aimed at. Changes ``turns`` and ``bcs`` in place."""
    gaps = [k for k in range(len(turns) - 1) if turns[k + 1]["transition"] == "gap"]
    rounding = dist_mean(m.backchannel_dur_s) / 2  # what the backchannel stage may leave by its last choice
    for k in (cv.rng.permutation(gaps) if gaps else []):
        segs = [(t["speaker"], t["start"], t["end"]) for t in turns] + [(b.speaker, b.start_s, b.end_s) for b, _ in bcs]
        speech, overlap = speaker_count_profile(merge_same_speaker(segs))
        short = ratio * speech - overlap
        if short <= rounding:
            break
        a, b = turns[k], turns[k + 1]
        room = min(a["end"] - a["start"] - a["in_ov"], b["end"] - b["start"] - b["out_ov"]) - 2 * MIN_SOLO_S
        o = cv.draw_fitting("overlap", m.overlap_s, room) if room > 0 else None
        if o is None:
            continue
        if o > short:  # would overshoot: keep it for a later boundary
            cv.pending["overlap"].append(o)
            continue
        shift = b["start"] - a["end"] + o
        hit = [(x, h) for x, h in bcs if h == k and x.end_s > a["end"] - o - BC_MARGIN_S
               or h == k + 1 and x.start_s - shift < a["end"] + BC_MARGIN_S]
        if sum(x.duration_s for x, _ in hit) >= o:  # would lose more overlap than it adds
            cv.pending["overlap"].append(o)
            continue
        bcs[:] = [xh for xh in bcs if xh not in hit]
        for t in turns[k + 1:]:
            t["start"], t["end"] = t["start"] - shift, t["end"] - shift
        bcs[:] = [(replace(x, start_s=x.start_s - shift, end_s=x.end_s - shift) if h > k else x, h) for x, h in bcs]
        a["out_ov"] = b["in_ov"] = o
        b["transition"] = "overlap"


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


# ---------------------------------------------------------------------------------------------------
# what the configured distributions imply


def implied_ratios(turns_cfg: "TurnModel | Mapping | None", mean_turn_s: float,
                   boundaries_per_turn: float = 1.0) -> dict:
    """Overlap and silence ratio implied by the turn model when turns last ``mean_turn_s`` on average.

    Per turn boundary the expected silence is S = (1-ps) E[pause] + ps (1-po) E[gap] and the expected
    switch overlap O = ps po E[overlap]; a turn adds D - O of speech time (D = mean turn length after
    truncation), of which D - 2 O is solo, and backchannels add B = rate/60 * E[bc duration] of
    overlap per second of solo speech: overlap ratio = (O + B (D - 2 O)) / (D - O),
    silence ratio = S / (D - O + S).
    ``boundaries_per_turn`` (default 1) scales S and O for short conversations, where the first turn
    has no boundary before it: (n_turns - 1) / n_turns.
    These are ratios of expectations, i.e. the pooled (time-weighted) ratios over many conversations.
    """
    m = as_model(turns_cfg)
    ps, po = dist_mean(m.p_switch), dist_mean(m.p_overlap)
    k = float(boundaries_per_turn)
    s = k * ((1 - ps) * dist_mean(m.pause_same_s) + ps * (1 - po) * dist_mean(m.gap_s))
    o = k * ps * po * dist_mean(m.overlap_s)
    b = dist_mean(m.backchannel_rate_per_min) / 60.0 * dist_mean(m.backchannel_dur_s)
    d = float(mean_turn_s)
    return {"overlap_ratio": (o + b * (d - 2 * o)) / (d - o), "silence_ratio": s / (d - o + s)}


def draw_at_least(rng: np.random.Generator, d: Dist, min_s: float) -> float:
    """A draw from ``d`` conditioned on being at least ``min_s`` (inverse CDF of a uniform above F(min_s))."""
    grid = ppf(d, np.linspace(0.0, 1.0, 4001))
    lo = min(np.searchsorted(grid, min_s) / len(grid), 0.9999)
    return float(ppf(d, rng.uniform(lo, 1.0)))


def duration_supplier(rng: np.random.Generator, d: Dist) -> Supplier:
    """Timeline-only supplier: utterance durations from ``d``, drawn conditionally on being at least the
    requested minimum (a pool with enough utterances of every length). For simulations and tests."""
    return lambda spk, min_duration_s=0.0: draw_at_least(rng, d, min_duration_s)
