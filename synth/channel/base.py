"""The effect contract (:class:`Effect`) and the registry: configs build effects only by registered name
(:func:`build_effect`, an allow-list), never through ``_target_``, so a config cannot run arbitrary code.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import Audio
from ..errors import ConfigError
from ..registry import registrar

if TYPE_CHECKING:  # what ``sample`` may look at (pools, rate, length) and what ``apply`` may use (cached files)
    from ..context import ItemContext, RenderContext

REGISTRY: dict[str, type] = {}

register = registrar(REGISTRY, "effect")


@dataclass(frozen=True)
class Skipped:
    """Params of an effect that was not applied this time (its ``p`` draw failed)."""

    applied: bool = False


class Effect:
    """Base class with the shared parts of the contract. Subclasses are frozen dataclasses whose fields are
    config values (constants or distributions, :func:`synth.dist.as_dist`) plus ``p``, registered with
    ``@register("name")``.

    ``sample(rng, ctx) -> params`` makes every random choice (file, offset, SNR, any noise seed) and returns a
    frozen params dataclass with units in its field names, JSON round-trippable. ``apply(audio, params, ctx)``
    is pure: same params and input, bit-identical output; ``ctx`` reads source files (noise, RIRs) through a
    per-worker cache. An effect that moves audio in time compensates inside ``apply`` (codec and resampler
    delays, RIR direct path) so labels stay on the words; one that removes audio (packet loss) reports the
    spans through ``lost_spans(params)``. ``summary(params)``: the drawn values recorded in the manifest's
    ``conditions``; ``realized(before, after, params)`` adds values measured on the audio."""

    name: str = "effect"
    p: float = 1.0

    def sample(self, rng: np.random.Generator, ctx: ItemContext):
        """Draw ``p`` first, then the effect's own parameters via :meth:`sample_params`."""
        if not rng.uniform() < self.p:
            return Skipped()
        return self.sample_params(rng, ctx)

    def sample_params(self, rng: np.random.Generator, ctx: ItemContext):
        raise NotImplementedError

    def apply(self, audio: Audio, params, ctx: RenderContext | None = None) -> Audio:
        if isinstance(params, Skipped):
            return audio
        return self.apply_params(audio, params, ctx)

    def apply_params(self, audio: Audio, params, ctx: RenderContext | None) -> Audio:
        raise NotImplementedError

    params_type: type = Skipped  # subclasses set their params dataclass here

    def summary(self, params) -> dict[str, Any]:
        """Values to record in the manifest's ``conditions`` (default: all params fields)."""
        if isinstance(params, Skipped):
            return {}
        return dataclasses.asdict(params)

    def realized(self, before: Audio, after: Audio, params) -> dict[str, Any]:
        """Values measured on this item's audio (clipped fraction, AGC gain range, realized loss rate...),
        recorded in ``conditions`` next to :meth:`summary`. ``before``/``after`` are apply's input/output."""
        return {}

    additive: bool = False  # True for effects that add a signal (noise): render keeps it as a stem

    def component(self, audio: Audio, params, ctx: RenderContext | None = None) -> np.ndarray:
        """For additive effects: the signal ``apply`` adds to ``audio`` (written as a stem)."""
        raise NotImplementedError

    def lost_spans(self, params) -> list[tuple[float, float]]:
        """(start_s, end_s) spans whose audio this effect removed (packet loss); none by default."""
        return []

    def params_from_dict(self, d: dict):
        """Rebuild params from their JSON form (``{"applied": false}`` means skipped)."""
        if d.get("applied") is False:
            return Skipped()
        return _from_dict(self.params_type, d)

    def check_p(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ConfigError(f"{self.name}.p={self.p}: must be within [0, 1]")


def _from_dict(cls: type, d: dict):
    kw = {}
    for f in fields(cls):
        if f.name in d:
            v = d[f.name]
            kw[f.name] = tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
    return cls(**kw)


def params_to_dict(params) -> dict:
    """JSON form of params; tuples become lists."""
    return json_ready(params)


def json_ready(x: Any) -> Any:
    """``x`` as JSON values: dataclasses become dicts, tuples lists, numpy scalars Python numbers, and
    non-finite floats None."""
    if x is None or isinstance(x, (str, bool, int)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_ready(v) for v in x]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: json_ready(getattr(x, f.name)) for f in fields(x)}
    return x


def build_effect(spec: dict) -> Effect:
    """Instantiate a registered effect from ``{"name": ..., **fields}`` with a one-line error on bad keys."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name not in REGISTRY:
        raise ConfigError(f"unknown effect {name!r}; known effects: {', '.join(sorted(REGISTRY))}")
    cls = REGISTRY[name]
    allowed = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(f"effect {name}: unknown key(s) {unknown}; allowed keys: {sorted(allowed)}")
    effect = cls(**spec)
    effect.check_p()
    return effect
