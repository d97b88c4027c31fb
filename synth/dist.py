"""Distributions written in config, and the one parser that reads them (:func:`as_dist`). Every distribution
is a frozen dataclass with ``sample(rng)``, ``sample_n(rng, n)`` and ``to_config()`` (its YAML form, so a
fitted profile can be written back out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError


class Dist:
    """Base class: a distribution over numbers or labels."""

    def sample(self, rng: np.random.Generator) -> Any:
        x = self.sample_n(rng, 1)[0]
        return x.item() if isinstance(x, np.generic) else x

    def sample_n(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def to_config(self) -> Any:
        raise NotImplementedError


def _finite(kind: str, *values: Any) -> None:
    if not all(np.isfinite(v) for v in values):
        raise ConfigError(f"{kind} {list(values)}: every number must be finite (not NaN or inf)")


def _check_clip(clip: tuple[float, float] | None) -> None:
    if clip is not None:
        _finite("clip", *clip)
        if not clip[0] <= clip[1]:
            raise ConfigError(f"clip [{clip[0]}, {clip[1]}]: lower bound must not exceed upper bound")


def _clip(x: np.ndarray, clip: tuple[float, float] | None) -> np.ndarray:
    return x if clip is None else np.clip(x, clip[0], clip[1])


def _with_clip(kind: str, values: list, clip: tuple[float, float] | None) -> dict:
    return {kind: values} | ({"clip": list(clip)} if clip else {})


@dataclass(frozen=True)
class Const(Dist):
    value: Any

    def __post_init__(self):
        if isinstance(self.value, float) and not np.isfinite(self.value):
            raise ConfigError("must be a finite number (not NaN or inf)")

    def sample(self, rng):
        return self.value

    def sample_n(self, rng, n):
        return np.array([self.value] * n, dtype=object if not isinstance(self.value, (int, float)) else float)

    def to_config(self):
        return self.value


@dataclass(frozen=True)
class Uniform(Dist):
    lo: float
    hi: float

    def __post_init__(self):
        _finite("uniform range", self.lo, self.hi)
        if not self.lo <= self.hi:
            raise ConfigError(f"uniform range [{self.lo}, {self.hi}]: lower bound must not exceed upper bound")

    def sample(self, rng):
        return float(rng.uniform(self.lo, self.hi))

    def sample_n(self, rng, n):
        return rng.uniform(self.lo, self.hi, size=n)

    def to_config(self):
        return [self.lo, self.hi]


@dataclass(frozen=True)
class LogUniform(Dist):
    lo: float
    hi: float

    def __post_init__(self):
        _finite("loguniform range", self.lo, self.hi)
        if not 0 < self.lo <= self.hi:
            raise ConfigError(f"loguniform range [{self.lo}, {self.hi}]: need 0 < lo <= hi")

    def sample_n(self, rng, n):
        return np.exp(rng.uniform(np.log(self.lo), np.log(self.hi), size=n))

    def to_config(self):
        return {"loguniform": [self.lo, self.hi]}


@dataclass(frozen=True)
class Normal(Dist):
    mean: float
    sd: float
    clip: tuple[float, float] | None = None

    def __post_init__(self):
        _finite("normal", self.mean, self.sd)
        if self.sd < 0:
            raise ConfigError(f"normal [{self.mean}, {self.sd}]: the standard deviation must be >= 0")
        _check_clip(self.clip)

    def sample_n(self, rng, n):
        return _clip(rng.normal(self.mean, self.sd, size=n), self.clip)

    def to_config(self):
        return _with_clip("normal", [self.mean, self.sd], self.clip)


@dataclass(frozen=True)
class LogNormal(Dist):
    median: float
    sigma: float
    clip: tuple[float, float] | None = None

    def __post_init__(self):
        _finite("lognormal", self.median, self.sigma)
        if not (self.median > 0 and self.sigma >= 0):
            raise ConfigError(f"lognormal [{self.median}, {self.sigma}]: need median > 0 and sigma >= 0")
        _check_clip(self.clip)

    def sample_n(self, rng, n):
        return _clip(np.exp(rng.normal(np.log(self.median), self.sigma, size=n)), self.clip)

    def to_config(self):
        return _with_clip("lognormal", [self.median, self.sigma], self.clip)


@dataclass(frozen=True)
class Gamma(Dist):
    shape: float
    scale: float
    clip: tuple[float, float] | None = None

    def __post_init__(self):
        _finite("gamma", self.shape, self.scale)
        if not (self.shape > 0 and self.scale > 0):
            raise ConfigError(f"gamma [{self.shape}, {self.scale}] (exponential: mean = scale): need shape > 0 "
                              "and scale > 0")
        _check_clip(self.clip)

    def sample_n(self, rng, n):
        return _clip(rng.gamma(self.shape, self.scale, size=n), self.clip)

    def to_config(self):
        return _with_clip("gamma", [self.shape, self.scale], self.clip)


@dataclass(frozen=True)
class Choice(Dist):
    values: tuple
    weights: tuple[float, ...] | None = None

    def __post_init__(self):
        if not self.values:
            raise ConfigError("choice: needs at least one value")
        for v in self.values:
            if isinstance(v, float):
                _finite("choice", v)
        if self.weights is not None:
            _finite("choice weights", *self.weights)
            if len(self.weights) != len(self.values) or min(self.weights) < 0 or sum(self.weights) <= 0:
                raise ConfigError(f"choice weights {list(self.weights)}: need one non-negative weight per value")

    def probabilities(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng):
        return self.values[int(rng.choice(len(self.values), p=self.probabilities()))]

    def sample_n(self, rng, n):
        idx = rng.choice(len(self.values), p=self.probabilities(), size=n)
        return np.array([self.values[i] for i in idx], dtype=object)

    def to_config(self):
        out: dict = {"choice": list(self.values)}
        return out | ({"weights": list(self.weights)} if self.weights is not None else {})


@dataclass(frozen=True)
class Histogram(Dist):
    """Piecewise-uniform density over bins: what ``synth fit`` writes for measured quantities."""

    edges: tuple[float, ...]
    counts: tuple[float, ...]

    def __post_init__(self):
        _finite("histogram", *self.edges, *self.counts)
        if len(self.edges) != len(self.counts) + 1 or sum(self.counts) <= 0 or min(self.counts, default=0) < 0:
            raise ConfigError("histogram: need len(edges) == len(counts) + 1, counts >= 0 and a positive total count")
        if any(b < a for a, b in zip(self.edges, self.edges[1:])):
            raise ConfigError("histogram: edges must be increasing")

    def sample_n(self, rng, n):
        p = np.asarray(self.counts, dtype=float)
        p = p / p.sum()
        k = rng.choice(len(p), p=p, size=n)
        e = np.asarray(self.edges, dtype=float)
        return e[k] + rng.uniform(0.0, 1.0, size=n) * (e[k + 1] - e[k])

    def to_config(self):
        return {"histogram": {"edges": list(self.edges), "counts": list(self.counts)}}


def _pair(key: str, v: Any) -> tuple[float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2 or not all(_is_number(x) for x in v):
        raise ConfigError(f"'{key}' needs two numbers, got {v!r}")
    return float(v[0]), float(v[1])


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _numbers(kind: str, v: Any) -> tuple[float, ...]:
    if not isinstance(v, (list, tuple)) or not all(_is_number(x) for x in v):
        raise ConfigError(f"'{kind}' needs a list of numbers, got {v!r}")
    return tuple(float(x) for x in v)


def as_dist(x: Any, name: str = "value") -> Dist:
    """Parse a config value into a :class:`Dist`; the only place that knows the syntax.

    In YAML a value that may vary is written as:

    =====================================  ==============================================
    ``3``, ``"g711_ulaw"``, ``null``       constant
    ``[lo, hi]``                           uniform on [lo, hi]
    ``{uniform: [lo, hi]}``                uniform
    ``{loguniform: [lo, hi]}``             log-uniform (both > 0)
    ``{normal: [mean, sd], clip: [lo, hi]}``  normal, optionally clipped to [lo, hi]
    ``{lognormal: [median, sigma], clip: [lo, hi]}``  log-normal: median and sigma of log
    ``{gamma: [shape, scale], clip: [...]}``  gamma
    ``{exponential: mean, clip: [...]}``   exponential with that mean
    ``{choice: [a, b, c], weights: [..]}`` categorical (weights optional, normalised)
    ``{histogram: {edges: [...], counts: [...]}}``  piecewise-uniform over bins (fitted data)
    =====================================  ==============================================

    Every error names ``name`` (the config key): NaN or inf anywhere, reversed ranges and clips,
    decreasing histogram edges, malformed syntax.
    """
    try:
        return _parse(x, name)
    except ConfigError as e:
        msg = str(e)
        raise ConfigError(msg if msg.startswith(name) else f"{name}={_show(x)}: {msg}") from None


def _show(x: Any) -> str:
    return repr(x.to_config() if isinstance(x, Dist) else plain_value(x))


def plain_value(x: Any) -> Any:
    """OmegaConf containers -> plain dicts (str keys) and lists, without importing omegaconf here."""
    if hasattr(x, "items"):
        return {str(k): plain_value(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) or type(x).__name__ == "ListConfig":
        return [plain_value(v) for v in x]
    return x


def _parse(x: Any, name: str) -> Dist:
    if isinstance(x, Dist):
        return x
    x = plain_value(x)
    if isinstance(x, list):
        if len(x) == 2 and all(_is_number(v) for v in x):
            return Uniform(float(x[0]), float(x[1]))
        raise ConfigError(f"{name}: a list means a uniform range [lo, hi] of two numbers, got {x!r}; "
                          "use {choice: [...]} for a set of values")
    if not isinstance(x, dict):
        return Const(x)
    clip = _pair("clip", x["clip"]) if x.get("clip") is not None else None
    kinds = [k for k in x if k not in ("clip", "weights")]
    if len(kinds) != 1:
        raise ConfigError(f"{name}: expected one distribution kind, got keys {sorted(x)}; "
                          "allowed: const uniform loguniform normal lognormal gamma exponential choice histogram")
    kind = kinds[0]
    v = x[kind]
    if kind == "const":
        return Const(v)
    if kind == "uniform":
        return Uniform(*_pair(kind, v))
    if kind == "loguniform":
        return LogUniform(*_pair(kind, v))
    if kind == "normal":
        return Normal(*_pair(kind, v), clip=clip)
    if kind == "lognormal":
        return LogNormal(*_pair(kind, v), clip=clip)
    if kind == "gamma":
        return Gamma(*_pair(kind, v), clip=clip)
    if kind == "exponential":
        if not _is_number(v):
            raise ConfigError(f"'exponential' needs one number (the mean), got {v!r}")
        return Gamma(1.0, float(v), clip=clip)
    if kind == "choice":
        weights = x.get("weights")
        if not isinstance(v, list):
            raise ConfigError(f"'choice' needs a list of values, got {v!r}")
        return Choice(tuple(v), _numbers("weights", weights) if weights is not None else None)
    if kind == "histogram":
        if not isinstance(v, dict) or set(v) != {"edges", "counts"}:
            raise ConfigError(f"'histogram' needs {{edges: [...], counts: [...]}}, got {v!r}")
        return Histogram(_numbers("edges", v["edges"]), _numbers("counts", v["counts"]))
    raise ConfigError(f"{name}: unknown distribution '{kind}'; allowed: const uniform loguniform normal "
                      "lognormal gamma exponential choice histogram")


def dist_field(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> Dist:
    """Parse ``value`` and check that every value it can produce lies in [lo, hi]; with a bound given the
    value must be numeric (a constant, a choice of numbers, or a numeric distribution)."""
    d = as_dist(value, name)
    bounds = _bounds(d)
    if (lo is not None or hi is not None) and bounds is None and not isinstance(d, NUMERIC):
        raise ConfigError(f"{name}={_show(d)}: must be a number or a distribution of numbers")
    if bounds is not None:
        if lo is not None and bounds[0] < lo or hi is not None and bounds[1] > hi:
            raise ConfigError(f"{name}={d.to_config()!r} is outside the allowed range [{lo}, {hi}]")
    return d


def number_field(name: str, value: Any, lo: float, hi: float, hi_open: bool = False) -> float:
    """A plain (never random) config number: finite and within [lo, hi] ([lo, hi) with ``hi_open``)."""
    if not _is_number(value) or not np.isfinite(value) or not (lo <= value < hi if hi_open else lo <= value <= hi):
        raise ConfigError(f"{name}={value!r}: must be a number within [{lo}, {hi}{')' if hi_open else ']'}")
    return float(value)


NUMERIC = (Uniform, LogUniform, Normal, LogNormal, Gamma, Histogram)


def _bounds(d: Dist) -> tuple[float, float] | None:
    if isinstance(d, Const) and isinstance(d.value, (int, float)) and not isinstance(d.value, bool):
        return float(d.value), float(d.value)
    if isinstance(d, (Uniform, LogUniform)):
        return d.lo, d.hi
    if isinstance(d, Histogram):
        return d.edges[0], d.edges[-1]
    if isinstance(d, Choice) and all(_is_number(v) for v in d.values):
        return float(min(d.values)), float(max(d.values))
    if isinstance(d, (Normal, LogNormal, Gamma)) and d.clip is not None:
        return d.clip
    return None
