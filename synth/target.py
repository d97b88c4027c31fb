"""``synth target``: from "which slices fail" to an augmentation plan for the slices that fail.

    synth target out/snr/eval/<engine>/results.json out/codecs/eval/<engine>/results.json \\
        --train train.jsonl --budget 0.3 --exclude out/snr out/codecs --out plan.yaml

**Inputs.** ``results.json`` files of ``synth eval`` on stress suites. Each slice of a suite is one
condition: its config is rebuilt from the suite config stored in the set (``config.yaml``: ``suite.base``
and ``suite.slices``, the same way :func:`synth.suite.build_suite` built it) and compared with the
reference slice's config; the one config group that differs (``noise``, ``room`` or ``channel``) is the
slice's condition. Slices that change several groups at once are listed, not planned.

**Weights.** For a slice with paired delta ``d`` (WER, or TER with ``--metric ter``, vs the suite's
reference slice; see :mod:`synth.eval.metrics`) and 95% interval ``[lo, hi]``:

* ``lo <= 0`` (the interval includes zero, or the slice is better): weight 0, no budget;
* else ``w = d * (1 - share)``, where ``share`` is the fraction of the training data already in that
  condition: from the ``conditions`` of ``--train``'s lines when they have them (synth sets, or NeMo
  manifests carrying synth conditions), else measured with :mod:`synth.profiles.estimate` on a fixed
  sample of ``--sample`` files (50; first files of a seeded shuffle). A condition matches when the
  SNR is within 2.5 dB of the slice's, the RT60 within 0.1 s, the codec (and bitrate) is the slice's;
  measured audio only tells the band class, so a codec slice matches audio of its band class.
  Without ``--train`` every share is 0.

**The plan** is one build config (a profile bundle), so the same file works for
``synth build profile=plan.yaml`` and ``Augmenter.from_config(profile="plan.yaml")``. A budget ``B``
(share of training utterances to augment) is split over the planned slices by weight; each config
group draws from a mixture of its slices' conditions with probability ``p = B * (group's weight share)``:

* ``noise``: the slices' noise spec with ``snr_db: {choice: [slice SNRs], weights: [...]}``;
* ``room``: the slices' room spec with its one varying field (e.g. ``rt60_s``) as a choice;
* ``channel``: the slices' chain with one codec stage whose ``codec`` is a choice and ``bitrate_bps`` a
  per-codec mapping. Every stage of the chain gets the group's ``p``; stages draw independently, so
  each stage is applied to the planned share of items but a band limit and a codec do not always
  co-occur (their joint share is about ``p**2``). Channels that differ in more than the codec stage
  (another band, extra hops, packet loss) cannot share one chain with the others: the heaviest shape
  is planned and the others are listed as not planned.

Groups no slice targets keep the first suite's reference condition (e.g. ``room: none``), so a set
built from the plan differs from the suite's reference only by the planned conditions. Slices that
cannot be merged lose their budget (the others are renormalized to ``B``); ``plan.md`` explains every
weight. ``--exclude <suite dirs>`` records ``sources.exclude`` so the pools leave out the suites'
speakers, utterances, noise files and measured RIRs (see :mod:`synth.leakage`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

from .audio import atomic_write_text
from .errors import BadInput, ConfigError
from .eval.gate import load_results
from .rng import item_rng

GROUPS = ("noise", "room", "channel")
CODEC_FIELDS = ("codec", "bitrate_bps", "bandwidth", "sample_rate_hz")
SNR_TOL_DB, RT60_TOL_S = 2.5, 0.1


# ---------------------------------------------------------------- slices of a suite

def suite_slices(results_path: Path, results: dict, metric: str) -> tuple[dict, list[dict]]:
    """(reference slice config, one row per non-reference slice) of the suite a results.json scored."""
    from .cli import conf_dir
    from .suite import slice_config

    set_dir = Path(results["set"]["path"])
    cfg_file = set_dir / "config.yaml"
    if not cfg_file.is_file():
        raise BadInput(results_path, f"scores the set {set_dir}, whose config.yaml is missing",
                       "keep the suite folder where synth eval found it, or rebuild it")
    cfg = yaml.safe_load(cfg_file.read_text())
    suite = (cfg or {}).get("suite")
    if not suite or not suite.get("slices"):
        raise BadInput(results_path, f"scores {set_dir}, which is not a stress suite (no suite.slices in its "
                       "config.yaml)", "run synth eval on a set built with suite=<name>")
    base = slice_config(cfg, suite.get("base") or {}, conf_dir())
    configs = {s: slice_config(base, ch, conf_dir()) for s, ch in suite["slices"].items()}
    ref = suite.get("reference", "clean")
    summ = results["summary"]
    if metric == "ter":
        if not summ.get("terms"):
            raise BadInput(results_path, "has no term scores", "run synth eval with terms=<file>, or --metric wer")
        scored = summ["terms"]["slices"]
    else:
        scored = summ["slices"]
    rows = []
    for name, c in configs.items():
        if name == ref:
            continue
        pd = (scored.get(name) or {}).get("paired_vs_ref") or {}
        groups = [g for g in GROUPS + ("level", "scenario", "output") if c.get(g) != configs[ref].get(g)]
        rows.append({"suite": suite.get("name") or set_dir.name, "slice": name, "groups": groups,
                     "spec": c.get(groups[0]) if len(groups) == 1 else None,
                     "metric": pd.get(metric), "ref_metric": pd.get(f"ref_{metric}"),
                     "delta": pd.get("delta"), "delta_ci": pd.get("delta_ci"), "n_pairs": pd.get("n_pairs")})
    return configs[ref], rows


def condition(group: str, spec: dict) -> dict:
    """What a slice's condition is, in the terms training data are described in."""
    if group == "noise":
        return {"snr_db": spec.get("snr_db")}
    if group == "room":
        return {"rt60_s": spec.get("rt60_s"), "kind": spec.get("kind")}
    stages = [s for leg in (spec.get("legs") or [])[:1] for s in leg.get("chain") or []]
    codecs = [s for s in stages if s.get("name") == "codec"]
    bands = [s.get("band") for s in stages if s.get("name") == "bandlimit"]
    return {"codec": codecs[0].get("codec") if len(codecs) == 1 else [c.get("codec") for c in codecs] or None,
            "bitrate_bps": codecs[0].get("bitrate_bps") if len(codecs) == 1 else None,
            "band": bands[0] if bands else None}


# ---------------------------------------------------------------- training data

def training_rows(path: Path, n_sample: int, seed: int) -> tuple[list[dict], str]:
    """Per training utterance: its conditions (from metadata, or measured on a fixed sample)."""
    from .sources.speech import read_jsonl

    rows = [r for _, r in read_jsonl(path)]
    if not rows:
        raise BadInput(path, "has no lines", "give the NeMo JSONL manifest of the training data")
    if any(isinstance(r.get("conditions"), dict) for r in rows):
        return [dict(r.get("conditions") or {}) for r in rows], f"conditions metadata of {len(rows)} lines"
    from .profiles.estimate import estimate_recording
    from .profiles.fit import read_recording

    order = item_rng(seed, f"target/{path.name}", "sample").permutation(len(rows))[:n_sample]
    out = []
    for i in sorted(order):
        p = Path(rows[i].get("audio_filepath", ""))
        x, sr, raw = read_recording(p if p.is_absolute() else path.parent / p)
        m = estimate_recording(x, sr, raw_pcm16=raw)
        out.append({"snr_db": m["snr_db"], "rt60_s": m["rt60_s"], "band": m["bandwidth_class"], "measured": True})
    return out, f"measured on {len(out)} of {len(rows)} files (synth.profiles.estimate)"


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def share_in(train: list[dict], group: str, cond: dict) -> float | None:
    """Fraction of training utterances already in the condition (None: not comparable)."""
    def matches(c: dict) -> bool:
        if group == "noise":
            v, t = _num(c.get("snr_db")), _num(cond["snr_db"])
            return v is not None and t is not None and abs(v - t) <= SNR_TOL_DB
        if group == "room":
            v, t = _num(c.get("rt60_s")), _num(cond["rt60_s"])
            return v is not None and t is not None and abs(v - t) <= RT60_TOL_S
        if c.get("measured"):
            return cond.get("band") is not None and c.get("band") == cond["band"]
        return c.get("codec") == cond["codec"] and (cond["bitrate_bps"] is None
                                                     or c.get("bitrate_bps") == cond["bitrate_bps"])
    if group in ("noise", "room") and _num(cond.get("snr_db" if group == "noise" else "rt60_s")) is None:
        return None
    return float(np.mean([matches(c) for c in train])) if train else None


# ---------------------------------------------------------------- merging slices into one spec

def _leaves(x, path=()) -> dict:
    if isinstance(x, dict):
        return {k: v for key, val in x.items() for k, v in _leaves(val, path + (key,)).items()} or {path: {}}
    if isinstance(x, list) and x and all(isinstance(v, dict) for v in x):
        return {k: v for i, val in enumerate(x) for k, v in _leaves(val, path + (i,)).items()}
    return {path: tuple(x) if isinstance(x, list) else x}


def _diff(a: dict, b: dict) -> set:
    """Leaf paths where two specs differ (a channel's own ``name`` aside)."""
    la, lb = _leaves(a), _leaves(b)
    return {k for k in set(la) | set(lb) if la.get(k) != lb.get(k) and k != ("name",)}


def _set(spec: dict, path: tuple, value) -> None:
    node = spec
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def _choice(values: list, weights: list[float]):
    agg: dict = {}
    for v, w in zip(values, weights):
        agg[v] = agg.get(v, 0.0) + w
    if len(agg) == 1:
        return next(iter(agg))
    tot = sum(agg.values())
    return {"choice": list(agg), "weights": [round(w / tot, 6) for w in agg.values()]}


def merge_group(group: str, comps: list[dict]) -> tuple[dict, list[dict], list[dict]]:
    """One spec drawing from the components' conditions: (spec, kept, dropped). ``comps``: rows with
    ``spec`` and ``weight``; the heaviest fixes the shape, others join when they differ from it only in
    one field (noise, room) or only in the fields of one codec stage (channel)."""
    import copy

    comps = sorted(comps, key=lambda c: -c["weight"])
    head = comps[0]
    diffs = [_diff(head["spec"], c["spec"]) for c in comps]
    if group == "channel":
        def ok(d):
            stages = {k[:-1] for k in d}
            return not d or (len(stages) == 1 and all(k[-1] in CODEC_FIELDS for k in d)
                             and _get(head["spec"], next(iter(stages))).get("name") == "codec")
        allowed = [d for d in diffs if d]
        stage = next((next(iter({k[:-1] for k in d})) for d in allowed if ok(d)), None)
        kept = [c for c, d in zip(comps, diffs) if ok(d) and (not d or {k[:-1] for k in d} == {stage})]
    else:
        singles = [next(iter(d)) for d in diffs if len(d) == 1]
        field = max(set(singles), key=lambda f: sum(c["weight"] for c, d in zip(comps, diffs) if d == {f}),
                    default=None)
        kept = [c for c, d in zip(comps, diffs) if not d or (d == {field} and not isinstance(
            _leaves(c["spec"]).get(field), (tuple, dict)))]
        if any(isinstance(_leaves(c["spec"]).get(field), (tuple, dict)) for c in kept):
            kept = [head]
    dropped = [c for c in comps if c not in kept]
    spec = copy.deepcopy(head["spec"])
    w = [c["weight"] for c in kept]
    if group == "channel" and len(kept) > 1:
        stages = [_get(c["spec"], stage) for c in kept]
        codec = _choice([s["codec"] for s in stages], w)
        node = {"name": "codec", "codec": codec}
        rates: dict = {}
        for s, wi in zip(stages, w):
            rates.setdefault(s["codec"], ([], []))
            rates[s["codec"]][0].append(s.get("bitrate_bps"))
            rates[s["codec"]][1].append(wi)
        per_codec = {k: _choice(v, ws) for k, (v, ws) in rates.items() if any(x is not None for x in v)}
        if per_codec:
            node["bitrate_bps"] = per_codec if isinstance(codec, dict) else next(iter(per_codec.values()))
        for f in ("bandwidth", "sample_rate_hz"):
            vals = {s[f] for s in stages if s.get(f) is not None}
            if vals:
                node[f] = vals.pop()  # one codec family uses it (opus bandwidth, mp3/aac rate)
        _set(spec, stage, node)
    elif group != "channel" and len(kept) > 1:
        _set(spec, field, _choice([_leaves(c["spec"])[field] for c in kept], w))
    return spec, kept, dropped


def _get(spec, path):
    for k in path:
        spec = spec[k]
    return spec


# ---------------------------------------------------------------- the plan

def make_target_plan(results_paths: list[Path], budget: float, train: Path | None = None,
                     exclude: list[str] | None = None, metric: str = "wer", n_sample: int = 50,
                     seed: int = 0, name: str = "target_plan") -> tuple[dict, list[dict], dict]:
    """(plan config, one row per slice with its weight and why, info). See the module docstring."""
    if not 0.0 < budget <= 1.0:
        raise ConfigError(f"--budget {budget}: give the share of training utterances to augment, in (0, 1]")
    if metric not in ("wer", "ter"):
        raise ConfigError(f"--metric {metric!r}: allowed values are wer and ter")
    refs, rows = [], []
    for p in results_paths:
        ref, r = suite_slices(Path(p), load_results(p), metric)
        refs.append(ref)
        rows += r
    train_rows, train_note = training_rows(Path(train), n_sample, seed) if train else ([], "no training data given")
    for r in rows:
        r["condition"] = condition(r["groups"][0], r["spec"]) if r["spec"] is not None else None
        r["share"] = share_in(train_rows, r["groups"][0], r["condition"]) if r["spec"] is not None and train else None
        ci = r["delta_ci"]
        r["significant"] = bool(ci and r["delta"] is not None and ci[0] > 0)
        if not r["significant"]:
            r["weight"], r["why"] = 0.0, ("interval includes zero" if ci and ci[0] <= 0 <= ci[1]
                                          else "no degradation" if ci else "no paired delta")
        elif r["spec"] is None:
            r["weight"], r["why"] = 0.0, f"changes several groups ({', '.join(r['groups'])}): not planned"
        else:
            r["weight"] = r["delta"] * (1.0 - (r["share"] or 0.0))
            r["why"] = "planned" if r["weight"] > 0 else "already common in the training data"
    plan: dict = {g: refs[0].get(g) for g in GROUPS + ("level",)}
    if any(ref.get("output", {}).get("sample_rate") for ref in refs):
        plan["output"] = {"sample_rate": next(ref["output"]["sample_rate"] for ref in refs
                                               if ref.get("output", {}).get("sample_rate"))}
    kept_by_group = {}
    for g in GROUPS:
        comps = [r for r in rows if r["weight"] > 0 and r["groups"] == [g]]
        if comps:
            spec, kept, dropped = merge_group(g, comps)
            kept_by_group[g] = (spec, kept)
            for r in dropped:
                r["why"] = f"cannot share one {g} spec with {kept[0]['slice']}: build it with its own config"
    total = sum(r["weight"] for _, kept in kept_by_group.values() for r in kept)
    components = []
    for g, (spec, kept) in kept_by_group.items():
        w_g = sum(r["weight"] for r in kept) / total
        p = round(budget * w_g, 6)
        if g == "channel":
            for leg in spec.get("legs") or []:
                for stage in leg.get("chain") or []:
                    stage["p"] = p
            spec["name"] = f"{name}_channel"
        else:
            spec["p"] = round(p * float(spec.get("p", 1.0)), 6)
        plan[g] = spec
        for r in kept:
            r["budget_share"] = r["weight"] / total
            r["p"] = round(budget * r["budget_share"], 6)
            components.append({"suite": r["suite"], "slice": r["slice"], "group": g, "condition": r["condition"],
                               "weight": round(r["weight"] / total, 6), "p": r["p"]})
    for r in rows:
        r.setdefault("p", 0.0)
        r.setdefault("budget_share", 0.0)
        if r["why"] == "planned" and not r["p"]:
            r["why"] = "not planned"
    plan["profile"] = {"name": name, "target": {
        "budget": budget, "metric": metric, "results": [str(Path(p).resolve()) for p in results_paths],
        "train": str(train) if train else None, "train_shares": train_note, "components": components}}
    if exclude:
        plan["sources"] = {"exclude": [str(Path(x).expanduser().resolve()) for x in exclude]}
    info = {"train_note": train_note, "reference_mismatch": [g for g in GROUPS if any(
        ref.get(g) != refs[0].get(g) for ref in refs) and g not in kept_by_group]}
    return plan, rows, info


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def plan_markdown(plan: dict, rows: list[dict], info: dict, out_name: str) -> str:
    t = plan["profile"]["target"]
    lines = [f"# Augmentation plan `{out_name}`", "",
             f"Budget: {t['budget']:g} of training utterances; metric: {t['metric'].upper()} paired delta vs each "
             f"suite's reference slice. Training-data shares: {info['train_note']}.", "",
             "weight = delta x (1 - training share), for slices whose 95% interval of the delta is above 0; "
             "p = budget x weight / sum of planned weights (the probability an item gets that condition).", "",
             "| suite | slice | group | condition | slice / ref | delta [95% CI] | train share | weight | p | why |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cond = ", ".join(f"{k}={v}" for k, v in (r["condition"] or {}).items() if v is not None) or "-"
        ci = r["delta_ci"]
        d = "–" if r["delta"] is None else (f"{100 * r['delta']:+.1f} [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"
                                             if ci else f"{100 * r['delta']:+.1f}")
        lines.append(f"| {r['suite']} | {r['slice']} | {', '.join(r['groups']) or '-'} | {cond} | "
                     f"{_pct(r['metric'])} / {_pct(r['ref_metric'])} | {d} | "
                     f"{'-' if r['share'] is None else format(r['share'], '.2f')} | {r['weight']:.4f} | {r['p']:.3f} | {r['why']} |")
    lines += ["", "Groups without planned slices keep the first suite's reference condition."]
    if info["reference_mismatch"]:
        lines.append(f"Note: the suites' references differ in {', '.join(info['reference_mismatch'])}; the first "
                     "suite's is used.")
    if "channel" in {c["group"] for c in t["components"]}:
        lines.append("Channel stages draw their p independently: each is applied to its planned share of items, "
                     "but a band limit and a codec co-occur on about p^2 of them.")
    ex = (plan.get("sources") or {}).get("exclude")
    if ex:
        lines.append(f"Excluded sources (speakers, utterances, noise files, measured RIRs of): {', '.join(ex)}.")
    lines += ["", f"Build: `synth build profile={out_name} sources.speech=<train.jsonl>`; "
              f"training: `Augmenter.from_config(profile=\"{out_name}\")`."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="synth target", description="Turn synth eval results into an augmentation "
                                 "plan (a profile file) weighted toward the slices that degrade significantly.")
    ap.add_argument("results", nargs="+", help="results.json files written by synth eval on stress suites")
    ap.add_argument("--train", help="NeMo JSONL manifest of the training data (how common each condition is)")
    ap.add_argument("--budget", type=float, default=0.3, help="share of training utterances to augment (0.3)")
    ap.add_argument("--exclude", nargs="*", default=[], help="suite folders whose sources the plan must not use")
    ap.add_argument("--metric", default="wer", help="wer (default) or ter (needs synth eval terms=...)")
    ap.add_argument("--sample", type=int, default=50, help="training files measured when there is no metadata")
    ap.add_argument("--out", default="plan.yaml", help="plan file (a plan.md is written beside it)")
    args = ap.parse_args(argv)
    from .leakage import read_sources

    for x in args.exclude:
        read_sources(x)  # a bad path fails here, not at build time
    out = Path(args.out)
    plan, rows, info = make_target_plan([Path(p) for p in args.results], args.budget, args.train, args.exclude,
                                        args.metric, args.sample, name=out.stem)
    md = plan_markdown(plan, rows, info, str(out))
    atomic_write_text(out.with_suffix(".md"), md)
    if not plan["profile"]["target"]["components"]:
        print(f"no slice degrades significantly: nothing to plan (see {out.with_suffix('.md')})")
        return 0
    atomic_write_text(out, "# synth target: augmentation plan (a profile file). Explained in "
                      f"{out.with_suffix('.md').name}.\n" + yaml.safe_dump(plan, sort_keys=False))
    print(md)
    print(f"plan: {out}  explained in {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
