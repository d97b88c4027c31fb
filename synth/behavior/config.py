"""The ``behavior`` config group: how often a talker restarts, repeats a word, hesitates and says a filler.

``behavior=none`` (default) leaves every utterance as recorded (a build's bytes are those of a build
without the group). Rates are distributions (:mod:`synth.dist`) drawn once per talker and item:

* ``restart.p``: probability per utterance of a false start (or ``restart.rate_per_min``: per minute of
  speech, as ``synth fit --refs`` writes it): its first ``restart.words`` (1-4) words,
  cut at a word end, or with probability ``restart.p_partial`` inside the last of them (a partial word),
  then a ``restart.pause_s`` pause, then the whole utterance;
* ``repetition.rate_per_min``: repeated words per minute of speech (``pause_s`` after the copy);
* ``hesitation.rate_per_min``: pauses of ``hesitation.pause_s`` added at word boundaries, per minute;
* ``filler.rate_per_min``: real fillers from the bank in ``fillers`` (a folder written by ``synth align
  --fillers``), per minute, with ``filler.pause_s`` on each side, level-matched to the talker's utterance
  (P.56) plus ``filler.gain_db``. Without a bank no filler is drawn, and the recipe says so;
* ``partial_word.p``: probability, per truncated utterance that another talker is speaking over at its cut
  (a conversation or meeting turn cut off by an interruption, or a listener's opening words; the scene
  cuts only at word ends), that the talker stops inside the next word instead: the audio runs on into
  it for a drawn 0.3-0.7 of its length (fade ``draw.FADE_S``), labeled as the fragment (``bo-``) and a
  ``partial_word`` event (:mod:`.draw` says when none fits). Constant, not per talker; default 0 (the
  presets set it: ``spontaneous`` 0.5, ``hesitant_caller`` 0.7), so a block without it, such as a suite
  slice of one behavior alone, adds none. ``synth fit --refs`` does not fit it (verbatim transcripts do
  not say which turns were interrupted; every fragment it counts goes to ``restart.p_partial``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dist import Dist, dist_field, number_field
from ..errors import ConfigError

KINDS = ("restart", "repetition", "hesitation", "filler", "partial_word")
PARTIAL_WORD_P = 0.0  # a block that does not name partial_word adds no fragments at turn cuts


@dataclass(frozen=True)
class Restart:
    p: float
    rate_per_min: Dist | None    # when set: P(restart) per utterance = rate x its minutes (capped at 1)
    words: Dist
    p_partial: float
    pause_s: Dist


@dataclass(frozen=True)
class Insertion:
    """Events inserted at word boundaries: ``rate_per_min`` per minute of speech as heard (Poisson; see draw.as_built_minutes)."""

    rate_per_min: Dist
    pause_s: Dist
    gain_db: Dist | None = None


@dataclass(frozen=True)
class Behavior:
    name: str
    fillers: str | None
    restart: Restart
    repetition: Insertion
    hesitation: Insertion
    filler: Insertion
    mean_s: dict          # mean of each pause distribution (s), for the rate-per-minute-as-built correction
    partial_word_p: float = PARTIAL_WORD_P  # P(a fragment) per truncated utterance cut inside a word

    @property
    def needs_bank(self) -> bool:
        return self.fillers is not None


def _block(cfg: dict, key: str, allowed: tuple[str, ...]) -> dict:
    block = dict(cfg.get(key) or {})
    unknown = sorted(set(block) - set(allowed))
    if unknown:
        raise ConfigError(f"behavior.{key}: unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}")
    return block


def _insertion(cfg: dict, key: str, pause: Any, gain: bool = False) -> Insertion:
    b = _block(cfg, key, ("rate_per_min", "pause_s") + (("gain_db",) if gain else ()))
    return Insertion(rate_per_min=dist_field(f"behavior.{key}.rate_per_min", b.get("rate_per_min", 0.0), 0, 120),
                     pause_s=dist_field(f"behavior.{key}.pause_s", b.get("pause_s", pause), 0, 10),
                     gain_db=dist_field(f"behavior.{key}.gain_db", b.get("gain_db", 0.0), -30, 10) if gain else None)


def build_behavior(cfg: dict | None) -> Behavior | None:
    """The behavior a ``behavior`` config block describes; None for ``none`` (or no block)."""
    cfg = dict(cfg or {})
    if cfg.get("name", "none") == "none":  # other keys unused (a suite's fluent slice keeps the bank path)
        return None
    unknown = sorted(set(cfg) - {"name", "fillers", *KINDS})
    if unknown:
        raise ConfigError(f"behavior: unknown key {unknown[0]!r}; allowed: name, fillers, {', '.join(KINDS)}")
    r = _block(cfg, "restart", ("p", "rate_per_min", "words", "p_partial", "pause_s"))
    rate = r.get("rate_per_min")
    restart = Restart(p=number_field("behavior.restart.p", r.get("p", 0.0), 0, 1),
                      rate_per_min=None if rate is None else dist_field("behavior.restart.rate_per_min", rate, 0, 120),
                      words=dist_field("behavior.restart.words", r.get("words", {"choice": [1, 2, 3, 4]}), 1, 4),
                      p_partial=number_field("behavior.restart.p_partial", r.get("p_partial", 0.0), 0, 1),
                      pause_s=dist_field("behavior.restart.pause_s", r.get("pause_s", [0.15, 0.5]), 0, 10))
    fillers = cfg.get("fillers")
    if fillers is not None:
        fillers = os.path.abspath(os.path.expanduser(str(fillers)))
        if not os.path.isfile(os.path.join(fillers, "manifest.jsonl")):
            raise ConfigError(f"behavior.fillers={cfg['fillers']}: no manifest.jsonl there; give a folder written by "
                              "`synth align <verbatim corpus> --out <manifest> --fillers <folder>`")
    rep, hes, fil = (_insertion(cfg, "repetition", [0.05, 0.2]), _insertion(cfg, "hesitation", [0.3, 1.0]),
                     _insertion(cfg, "filler", [0.05, 0.25], gain=True))
    means = {"restart": dist_mean(restart.pause_s), "repetition": dist_mean(rep.pause_s),
             "hesitation": dist_mean(hes.pause_s), "filler": dist_mean(fil.pause_s)}
    pw = _block(cfg, "partial_word", ("p",))
    return Behavior(name=str(cfg["name"]), fillers=fillers, restart=restart, repetition=rep, hesitation=hes,
                    filler=fil, mean_s=means,
                    partial_word_p=number_field("behavior.partial_word.p", pw.get("p", PARTIAL_WORD_P), 0, 1))


def dist_mean(d: Dist) -> float:
    """A distribution's mean, estimated from a fixed private generator (no item's draws are used)."""
    return float(np.mean(np.maximum(0.0, np.asarray(d.sample_n(np.random.default_rng(0), 4000), float))))
