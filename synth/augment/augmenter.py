"""Training-time augmentation: a build's single-talker chain applied to your own utterances, on the fly, with
the build's own code (:func:`synth.plan.draw_chain` draws, :func:`synth.render.run_effects` applies: no second
DSP), every draw keyed on ``item_rng(seed, f"{key}@{epoch}", stage)`` as for build items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..audio import Audio, resample
from ..context import ItemContext, RenderContext
from ..errors import BadInput, ConfigError
from ..plan import AUGMENT_P, Plan, draw_chain, make_plan
from ..render import calibrates, fit_length, merge_conditions, record, run_effects
from ..rng import item_rng
from . import behavior as behavior_
from .inputs import Layout, check_epoch, check_rate, check_samples

TALKER = "A"  # the label render gives a single talker; stems are named after it


@dataclass
class Augmented:
    """One augmented utterance: float32 ``samples`` shaped like the input (in its layout), at ``sample_rate``
    (the input's rate); longer than the input when a ``behavior`` added disfluencies.

    Labels (with a ``behavior``, from the recipe): ``text`` verbatim, ``text_fluent`` the given transcript,
    ``words`` ``[{word, start, end}]`` verbatim on the output's timeline and ``events`` ``[{type, start, end,
    words}]`` as in a build's segments. Without a behavior, the ``words``/``text`` passed in (the timeline is
    the input's); None when none were passed."""

    samples: np.ndarray
    sample_rate: int
    conditions: dict                                   # drawn and measured values, as in manifest lines
    recipe: dict                                       # every draw (JSON); :meth:`Augmenter.apply` replays it
    stems: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)  # additive parts (noise), first channel
    lost_spans: list[tuple[float, float]] = field(default_factory=list)     # packet-loss spans (s)
    text: str | None = None
    text_fluent: str | None = None
    words: list[dict] | None = None
    events: list[dict] | None = None


def plan_from_config(overrides: Sequence[str] = (), profile: str | None = None, seed: int = 0,
                     exclude: Sequence[str] | None = None, need_speech: bool = True) -> Plan:
    """The build plan of ``synth build <overrides>``: ``overrides`` are its ``key=value`` arguments,
    ``profile`` a built-in profile name or a profile file (``synth fit`` output), ``exclude`` the built sets
    whose sources the pools leave out (``sources.exclude``). With ``need_speech=False`` (the Augmenter) no
    speech is read: noise and RIRs may come from ``sources.noise`` / ``sources.rir`` folders alone."""
    from ..compose import compose_config

    o = [f"seed={int(seed)}", *overrides]
    if profile:
        o.append(f"profile={profile}")  # a name is a group override; a .yaml path is applied as a file
    if exclude:
        quoted = ",".join("'" + str(p).replace("\\", "\\\\").replace("'", "\\'") + "'" for p in exclude)
        o.append(f"sources.exclude=[{quoted}]")
    return make_plan(compose_config(o), need_speech=need_speech)


class Augmenter:
    """The build's single-talker chain as a callable: ``aug(samples, sample_rate, key, epoch)``.

    ``p`` is the probability that the whole chain is applied to an utterance (otherwise it is returned
    unchanged and recorded as ``augmented: false``); each effect keeps its own ``p`` from the config.
    ``leg`` picks the channel leg by name (default: the first, as for a single-talker build item).

    Render's order: the talker's disfluencies (``behavior``), room and level, the leg's noise, gain, clipping
    and channel chain, then the recorder. Effects compensate their own delays, so the output lines up with the input; a chain that ends
    at another rate (a narrowband leg: 8 kHz) is resampled back with soxr (no shift) and cut or padded to the
    input length (``conditions``: ``channel_sr_hz``). Noise, RIR files and the RIR bank are read once, when
    the Augmenter is made; a pickled copy (a DataLoader worker's) carries the pool lists and the bank, not
    the audio: its file cache (:class:`synth.context.RenderContext`) fills on first use in each process.

    A ``behavior`` (e.g. ``behavior=spontaneous``) needs the utterance's word alignments: ``aug(x, sr, key,
    words=[{word, start, end}], text=...)`` (seconds from the first sample, as ``synth align`` writes them).
    Its restart, repetitions, pauses and fillers (real tokens from ``behavior.fillers``) are drawn as for a
    build's single talker (stage ``behavior-A`` of ``{key}@{epoch}``) and placed from the caller's samples
    before the chain, the same on every channel, so the output is **longer than the input** by the seconds
    they add (``conditions["behavior"]["gained_s"]``) and the labels say what was said when
    (:class:`Augmented`). Without words the utterance is left fluent and ``conditions["behavior"]`` says
    ``skipped: "no word alignments"`` (as a build does for an unaligned utterance); an utterance the overall
    ``p`` leaves unchanged gets no disfluencies either.
    """

    def __init__(self, plan: Plan, p: float = 1.0, leg: str | None = None):
        if not 0.0 <= float(p) <= 1.0:
            raise ConfigError(f"augment p={p}: must be within [0, 1]")
        names = [name for name, _ in plan.legs]
        if leg is not None and leg not in names:
            raise ConfigError(f"augment leg={leg!r}: the channel's legs are {names}")
        self.plan = plan
        self.p = float(p)
        self.leg_index = names.index(leg) if leg is not None else 0
        self._ctx: RenderContext | None = None

    @classmethod
    def from_config(cls, overrides: Sequence[str] = (), profile: str | None = None, seed: int = 0,
                    exclude: Sequence[str] | None = None, p: float = 1.0, leg: str | None = None) -> "Augmenter":
        """Compose the config as ``synth build`` does (see :func:`plan_from_config`), without a speech corpus:
        ``sources.noise`` / ``sources.rir`` folders (or a corpus root's noise and RIRs) are all it reads."""
        return cls(plan_from_config(overrides, profile, seed, exclude, need_speech=False), p=p, leg=leg)

    # ------------------------------------------------------------------------------------- pickling
    @property
    def ctx(self) -> RenderContext:
        if self._ctx is None:
            self._ctx = RenderContext(self.plan.pools.root)
        return self._ctx

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_ctx": None}  # the file cache is per process

    # ------------------------------------------------------------------------------------- drawing
    @property
    def seed(self) -> int:
        return self.plan.seed

    @property
    def leg(self) -> tuple[str, list]:
        return self.plan.legs[self.leg_index]

    def sample(self, key: Any, epoch: int, sample_rate: int, duration_s: float, words: list | None = None,
               text: str | None = None, gender: str | None = None) -> dict:
        """Every draw for one utterance of ``duration_s`` seconds (JSON): its disfluencies (``behavior``, from
        ``words``/``text`` as :meth:`__call__` takes them; only with a behavior), then the steps of the talker,
        the leg and the recorder, drawn for the utterance as heard (its duration with the disfluencies)."""
        sample_rate, epoch = check_rate(sample_rate), check_epoch(epoch)
        words, text = behavior_.check_labels(words, text, float(duration_s))
        return self._sample(key, epoch, sample_rate, float(duration_s), words, text, behavior_.check_gender(gender))

    def _sample(self, key: Any, epoch: int, sample_rate: int, duration_s: float, words, text,
                gender: str | None = None) -> dict:
        item = f"{key}@{int(epoch)}"
        recipe = {"kind": "augment", "key": str(key), "epoch": int(epoch), "seed": self.seed,
                  "sample_rate": int(sample_rate), "p": self.p, "generator": self.plan.generator()}
        applied = bool(item_rng(self.seed, item, AUGMENT_P).uniform() < self.p)
        recipe["applied"] = applied
        if self.plan.behavior is not None:  # before the chain, as in a build: the chain draws on the longer utterance
            recipe["behavior"] = behavior_.draw(self.plan, item, applied, duration_s, words, text, gender)
            duration_s = float(recipe["behavior"].get("duration_s", duration_s))
        leg_name, leg_steps = self.leg
        if not applied:
            return {**recipe, "talker": [], "leg": {"name": leg_name, "effects": []}, "recorder": []}
        ctx = ItemContext(item_id=item, sr=int(sample_rate), duration_s=float(duration_s), pools=self.plan.pools,
                          rooms=self.plan.rooms)
        talker, (leg,), recorder = draw_chain(self.plan, item, ctx, [TALKER], [(self.leg_index, leg_steps)])
        return {**recipe, "talker": talker[TALKER], "leg": {"name": leg_name, "effects": leg}, "recorder": recorder}

    # ------------------------------------------------------------------------------------- applying
    def apply(self, samples: np.ndarray, recipe: dict) -> Augmented:
        """Apply a recipe from :meth:`sample` (pure: the same recipe and input give identical samples).

        ``samples`` at ``recipe["sample_rate"]``, in any layout and format :mod:`synth.augment.inputs` takes;
        every channel gets the same draw (as render's recorder does for stereo calls). A recipe with a
        ``behavior`` block places its pieces (times in seconds of the input) and gives its labels."""
        if not isinstance(recipe, dict) or recipe.get("kind") != "augment" or "applied" not in recipe:
            raise BadInput("Augmenter recipe", f"is not an Augmenter recipe ({type(recipe).__name__})",
                           "pass the .recipe of an Augmented (or Augmenter.sample's result)")
        sr = check_rate(recipe.get("sample_rate"), "Augmenter recipe sample_rate")
        x, lay = check_samples(samples)
        return self._apply(x, lay, {**recipe, "sample_rate": sr})

    def _apply(self, x: np.ndarray, lay: Layout, recipe: dict) -> Augmented:
        sr = int(recipe["sample_rate"])
        b = recipe.get("behavior")
        said = {"behavior": behavior_.summary(b, x.shape[-1] / sr)} if b is not None else {}
        if b is not None and b.get("pieces"):  # disfluencies first, from the caller's samples: a longer utterance
            y = behavior_.place(np.atleast_2d(x), b, self.ctx, sr)
            x = y if x.ndim == 2 else y[0]
        if not recipe["applied"]:
            return Augmented(lay.restore(x.copy()), sr, {"augmented": False, **said}, recipe, **behavior_.labels(b))
        channels = [self._apply_channel(ch, sr, recipe) for ch in np.atleast_2d(x)]
        out = [c[0] for c in channels]
        _, cond, stems, lost = channels[0]  # measured values (clipped fraction...) of the first channel
        profile = (self.plan.cfg.get("profile") or {}).get("name")
        conditions = {"augmented": True, **({"profile": profile} if profile else {}), **said, **cond}
        return Augmented(lay.restore(np.stack(out)) if x.ndim == 2 else out[0], sr, conditions, recipe, stems, lost,
                         **behavior_.labels(b))

    def _effects(self, recipe: dict) -> tuple:
        """The plan's built effects for a recipe this plan drew (else None: run_effects builds them)."""
        ours = (recipe.get("generator") or {}).get("config_hash") == self.plan.config_hash \
            and recipe["leg"]["name"] == self.leg[0]
        if not ours:
            return None, None, None
        return ([s.effect for s in self.plan.talker_steps], [s.effect for s in self.leg[1]],
                [s.effect for s in self.plan.recorder])

    def _apply_channel(self, x: np.ndarray, sr: int, recipe: dict):
        """Render's order on one channel: talker effects, leg effects, output rate, recorder."""
        n = len(x)
        stems: dict = {}
        talker: dict = {}
        leg: dict = {}
        lost: list = []
        e_talker, e_leg, e_rec = self._effects(recipe)
        a, _ = run_effects(Audio(x, sr), recipe["talker"], self.ctx, TALKER, stems, talker, [], effects=e_talker)
        # a chain that calibrates the recorded level measures it on a noise-free shadow of the same chain
        shadow = calibrates(recipe["leg"]["effects"]) or calibrates(recipe["recorder"])
        a, speech = run_effects(a, recipe["leg"]["effects"], self.ctx, recipe["leg"]["name"], stems, leg, lost,
                                speech=Audio(a.samples.copy(), a.sr) if shadow else None, effects=e_leg)
        conditions = merge_conditions({TALKER: talker}, {recipe["leg"]["name"]: leg})
        conditions["channel_sr_hz"] = a.sr
        if recipe["recorder"]:
            out_sr = int((self.plan.cfg.get("output") or {}).get("sample_rate") or a.sr)
            n_out = int(round(n * out_sr / sr))
            shadow_out = fit_length(resample(speech.samples, speech.sr, out_sr), n_out) if speech is not None else None
            y, = record([fit_length(resample(a.samples, a.sr, out_sr), n_out)], [shadow_out], recipe["recorder"],
                        self.ctx, out_sr, n_out, conditions, effects=e_rec)
            a = Audio(y, out_sr)
        y = fit_length(resample(a.samples, a.sr, sr), n)
        return y.astype(np.float32), conditions, stems, lost

    def __call__(self, samples: np.ndarray, sample_rate: int, key: Any, epoch: int = 0, words: list | None = None,
                 text: str | None = None, gender: str | None = None) -> Augmented:
        """Augment one utterance: ``samples`` as :mod:`synth.augment.inputs` takes them (``(T,)``, ``(C, T)``,
        soundfile's ``(T, C)``; float or int16/int32 PCM) at ``sample_rate`` Hz. The result is float32 in the
        caller's layout. ``words``: the utterance's word alignments ``[{word, start, end}]`` (s from its first
        sample, checked as a source manifest's; a last word may end up to 50 ms after the last sample) and
        ``text`` its transcript (default: the words), which a ``behavior`` needs (see the class docstring);
        ``gender``: the talker's, as the filler bank's rows spell it (e.g. ``"F"``): fillers of that gender when
        the bank has some (a build uses its speaker metadata so), else of any."""
        sr = check_rate(sample_rate)
        epoch = check_epoch(epoch)
        x, lay = check_samples(samples)
        words, text = behavior_.check_labels(words, text, x.shape[-1] / sr)
        r = self._apply(x, lay, self._sample(key, epoch, sr, x.shape[-1] / sr, words, text,
                                             behavior_.check_gender(gender)))
        if self.plan.behavior is None:  # the input's timeline: its labels hold as given
            r.text, r.words = text, words
        return r
