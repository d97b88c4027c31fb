"""Regression gate: fail a release when a slice's WER got worse than a baseline *and the data say so*
(``synth eval <set> ... gate.baseline=<results.json> gate.max_wer_increase=0.02``; exit 1 when a slice
regresses). The test: :func:`compare_slice`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BadInput, ConfigError
from ..rng import item_rng
from .metrics import ALL, bootstrap_pair, bootstrap_ratio, interval

MODES = ("absolute", "relative")


@dataclass(frozen=True)
class GateConfig:
    baseline: str | None = None
    max_wer_increase: float = 0.02
    mode: str = "absolute"
    metric: str = "wer"  # wer | cer

    def __post_init__(self):
        if self.mode not in MODES:
            raise ConfigError(f"gate.mode={self.mode!r} is not one of {', '.join(MODES)}")
        if self.metric not in ("wer", "cer"):
            raise ConfigError(f"gate.metric={self.metric!r} is not one of wer, cer")
        if not (isinstance(self.max_wer_increase, (int, float)) and self.max_wer_increase >= 0):
            raise ConfigError(f"gate.max_wer_increase={self.max_wer_increase!r} must be a number >= 0")


@dataclass
class SliceVerdict:
    slice: str
    status: str  # pass | regression | inconclusive
    current: float | None
    baseline: float | None
    delta: float | None
    delta_ci: list[float] | None
    margin_ci: list[float] | None
    paired: bool
    n_items: int


@dataclass
class GateResult:
    config: GateConfig
    verdicts: list[SliceVerdict]
    skipped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SliceVerdict]:
        return [v for v in self.verdicts if v.status == "regression"]

    @property
    def passed(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        c = self.config
        unit = "absolute" if c.mode == "absolute" else "relative"
        out = []
        for v in self.verdicts:
            if v.status == "pass":
                continue
            ci = f"[{v.delta_ci[0]:+.4f}, {v.delta_ci[1]:+.4f}]" if v.delta_ci else "[n/a]"
            word = "REGRESSION" if v.status == "regression" else "inconclusive"
            out.append(f"{word} slice {v.slice}: {c.metric.upper()} {v.current:.4f} vs baseline {v.baseline:.4f}, "
                       f"delta {v.delta:+.4f} 95% CI {ci}; threshold {c.max_wer_increase:g} ({unit}); "
                       f"{'paired' if v.paired else 'unpaired'}, {v.n_items} items")
        n_fail = len(self.failed)
        out.append(f"gate {'FAILED' if n_fail else 'passed'}: {n_fail} of {len(self.verdicts)} slices regressed "
                   f"(baseline {c.baseline})")
        return out

    def to_dict(self) -> dict:
        return {"passed": self.passed, "config": self.config.__dict__,
                "verdicts": [v.__dict__ for v in self.verdicts], "skipped": self.skipped}


def load_results(path: str | Path) -> dict:
    p = Path(path)
    try:
        res = json.loads(p.read_text(encoding="utf-8"))
    except OSError:
        raise BadInput(p, "cannot be read", "give gate.baseline=<results.json of an earlier synth eval>") from None
    except ValueError:
        raise BadInput(p, "is not valid JSON", "give gate.baseline=<results.json of an earlier synth eval>") from None
    if not isinstance(res, dict) or "items" not in res or "summary" not in res:
        raise BadInput(p, "is not a synth eval results.json (no 'items'/'summary')",
                       "give the results.json written by synth eval")
    return res


def _counts(items: list[dict], metric: str):
    den_key = "ref_words" if metric == "wer" else "ref_chars"
    return {it["id"]: (float(it[metric]["errors"]), float(it[metric][den_key])) for it in items}


def _ratio(c: dict, ids) -> float | None:
    e = sum(c[i][0] for i in ids)
    n = sum(c[i][1] for i in ids)
    return e / n if n > 0 else None


def compare_slice(name: str, cur_items: list[dict], base_items: list[dict], cfg: GateConfig,
                  seed: int = 0, n_boot: int = 2000) -> SliceVerdict:
    """The verdict on one slice (or ``all``). ``d = WER_current - WER_baseline``; items are paired by id when at
    least half of the smaller side's items are in both (the same suite scored twice: the bootstrap resamples
    the common items, the same draw for both), else the runs are resampled independently. The margin is
    ``d - t`` in ``absolute`` mode (``t`` = ``max_wer_increase`` in WER units: 0.02 = two points) and
    ``WER_current - (1 + t) * WER_baseline`` in ``relative`` mode (well defined when the baseline is 0). A
    **regression** only if the whole 95% interval of the margin is above 0 (a one-sided test at 2.5 %); a
    point estimate above the threshold whose interval reaches below it is ``inconclusive``."""
    cur, base = _counts(cur_items, cfg.metric), _counts(base_items, cfg.metric)
    common = sorted(set(cur) & set(base))
    paired = len(common) >= max(1, 0.5 * min(len(cur), len(base)))
    t = float(cfg.max_wer_increase)
    rng = item_rng(seed, f"gate/{name}", cfg.metric)
    if paired:
        ce = np.array([cur[i][0] for i in common]); cn = np.array([cur[i][1] for i in common])
        be = np.array([base[i][0] for i in common]); bn = np.array([base[i][1] for i in common])
        wc, wb = _ratio(cur, common), _ratio(base, common)
        c_reps, b_reps = bootstrap_pair(ce, cn, be, bn, rng, n_boot)
        d_reps = c_reps - b_reps
        n_items = len(common)
    else:
        ids_c, ids_b = sorted(cur), sorted(base)
        wc, wb = _ratio(cur, ids_c), _ratio(base, ids_b)
        c_reps = bootstrap_ratio([cur[i][0] for i in ids_c], [cur[i][1] for i in ids_c], rng, n_boot)
        b_reps = bootstrap_ratio([base[i][0] for i in ids_b], [base[i][1] for i in ids_b],
                                 item_rng(seed, f"gate/{name}", "baseline"), n_boot)
        d_reps = c_reps - b_reps
        n_items = len(ids_c)
    if wc is None or wb is None:
        return SliceVerdict(name, "pass", wc, wb, None, None, None, paired, n_items)
    margin = d_reps - t if cfg.mode == "absolute" else d_reps - t * b_reps
    d_ci, m_ci = interval(d_reps), interval(margin)
    point = (wc - wb - t) if cfg.mode == "absolute" else (wc - (1 + t) * wb)
    if m_ci is not None and m_ci[0] > 0:
        status = "regression"
    elif point > 0:
        status = "inconclusive"
    else:
        status = "pass"
    return SliceVerdict(name, status, wc, wb, wc - wb, d_ci, m_ci, paired, n_items)


def run_gate(current: dict, baseline: dict, cfg: GateConfig, seed: int = 0, n_boot: int = 2000) -> GateResult:
    """Compare two results dicts (as written to results.json) slice by slice (:func:`compare_slice`) and for
    the whole set (``all``); slices only in one of the two are listed and skipped."""
    def by_slice(res):
        out: dict[str, list[dict]] = {}
        for it in res["items"]:
            out.setdefault(it["slice"], []).append(it)
        return out

    cs, bs = by_slice(current), by_slice(baseline)
    verdicts = [compare_slice(ALL, current["items"], baseline["items"], cfg, seed, n_boot)]
    names = [s for s in cs if s in bs and s != ALL]
    verdicts += [compare_slice(s, cs[s], bs[s], cfg, seed, n_boot) for s in names]
    skipped = sorted((set(cs) ^ set(bs)) - {ALL})
    return GateResult(cfg, verdicts, skipped)
