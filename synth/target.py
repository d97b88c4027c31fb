"""``synth target``: from "which slices fail" to an augmentation plan for the slices that fail.

    synth target out/snr/eval/<engine>/results.json --train train.jsonl --budget 0.3 --exclude out/snr --out plan.yaml

Each failing slice of a stress suite weighs its paired delta times how scarce its condition is in the
training data; the plan is one build config (a profile bundle) mixing the planned conditions per config
group, with ``plan.md`` explaining every weight. How weights and mixtures are formed: README, "The loop".
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
from .writer.slices import group_dimension

GROUPS = ("noise", "room", "channel")
CODEC_FIELDS = ("codec", "bitrate_bps", "bandwidth", "sample_rate_hz")


# ---------------------------------------------------------------- slices of a suite

def suite_slices(results_path: Path, results: dict, metric: str) -> tuple[dict, list[dict]] | str:
    """(reference slice config, one row per non-reference slice) of the suite a results.json scored, or
    why it cannot be planned from (real data or a plain set: its slices have no config to reproduce).

    Each slice's config is rebuilt from the suite config stored in the set (``config.yaml``: ``suite.base``
    and ``suite.slices``, as :func:`synth.suite.build_suite` built it) and compared with the reference
    slice's: the one group that differs (``noise``, ``room`` or ``channel``) is the slice's condition; a
    slice changing several groups is listed, not planned."""
    from .confdir import conf_dir
    from .suite import slice_config

    set_dir = Path(results["set"]["path"])
    cfg_file = set_dir / "config.yaml"
    cfg = yaml.safe_load(cfg_file.read_text()) if cfg_file.is_file() else None
    suite = (cfg or {}).get("suite")
    if not suite or not suite.get("slices"):
        return (f"{results_path} scores {set_dir}, which is not a synth stress suite (no suite.slices in a "
                "config.yaml): its slices have no config to reproduce")
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
                     "spec": c.get(groups[0]) if len(groups) == 1 and groups[0] in GROUPS else None,
                     "ref_spec": configs[ref].get(groups[0]) if groups else None,
                     "metric": pd.get(metric), "ref_metric": pd.get(f"ref_{metric}"),
                     "delta": pd.get("delta"), "delta_ci": pd.get("delta_ci"), "n_pairs": pd.get("n_pairs")})
    return configs[ref], rows


def condition(group: str, spec: dict, ref_spec: dict | None) -> dict:
    """What a slice's condition is, in the terms training data are described in. For a channel: the
    stages of its first leg that the reference's chain does not have (codec, band, anything else)."""
    if group == "noise":
        return {"snr_db": spec.get("snr_db")}
    if group == "room":
        return {"rt60_s": spec.get("rt60_s"), "kind": spec.get("kind")}
    ref_chain = [st for leg in ((ref_spec or {}).get("legs") or [])[:1] for st in leg.get("chain") or []]
    added = [st for leg in (spec.get("legs") or [])[:1] for st in leg.get("chain") or [] if st not in ref_chain]
    codecs = [st for st in added if st.get("name") == "codec"]
    bands = [st.get("band") for st in added if st.get("name") == "bandlimit"]
    other = [f"{st['name']}(" + ", ".join(f"{k}={v}" for k, v in st.items() if k not in ("name", "p")) + ")"
             for st in added if st.get("name") not in ("codec", "bandlimit")]
    return {"codec": codecs[0].get("codec") if len(codecs) == 1 else [c.get("codec") for c in codecs] or None,
            "bitrate_bps": codecs[0].get("bitrate_bps") if len(codecs) == 1 else None,
            "band": bands[0] if bands else None, "other": other or None}


# ---------------------------------------------------------------- training data

def training_rows(path: Path, n_sample: int, seed: int) -> tuple[list[dict], str]:
    """Per training utterance: its conditions, from the lines' ``conditions`` when they have them (synth
    sets, or NeMo manifests carrying synth conditions), else measured with :mod:`synth.profiles.estimate` on
    a fixed sample of ``n_sample`` files (the first of a seeded shuffle)."""
    from .sources.schema import read_rows

    rows = [r for _, r in read_rows(path)]
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
    """Fraction of training utterances already in the condition (None: not comparable). A constant
    target matches within the tolerance (SNR 2.5 dB, RT60 0.1 s), a ``[lo, hi]`` range inside it; a codec
    (and bitrate) must be the slice's, or, for measured audio, which only tells the band class, of its band
    class. Other channel changes (packet loss, transcoding chains) are not comparable and count as absent."""
    def near(v, target, tol: float) -> bool:
        v = _num(v)
        if v is None:
            return False
        if isinstance(target, list):
            return float(target[0]) <= v <= float(target[1])
        return abs(v - float(target)) <= tol

    dim = group_dimension(group)  # the condition a noise or room slice changes, and its match tolerance
    key, tol = (dim.key, dim.tolerance) if dim else (None, 0.0)
    if key is not None:
        target = cond.get(key)
        if not (_num(target) is not None or (isinstance(target, list) and len(target) == 2)):
            return None
        return float(np.mean([near(c.get(key), target, tol) for c in train])) if train else None
    if cond.get("codec") is None or isinstance(cond["codec"], list) or cond.get("other"):
        return None  # no single codec change (a transcoding chain, packet loss ...): not comparable

    def matches(c: dict) -> bool:
        if c.get("measured"):  # measured audio tells the band class, not the codec
            return cond.get("band") is not None and c.get("band") == cond["band"]
        return c.get("codec") == cond["codec"] and (cond["bitrate_bps"] is None
                                                     or c.get("bitrate_bps") == cond["bitrate_bps"])
    return float(np.mean([matches(c) for c in train])) if train else None


# ---------------------------------------------------------------- merging slices into one spec

def _fields(group: str, spec: dict) -> dict:
    """A spec as {field path: value}: top-level keys for noise and room; for a channel, every field of
    every stage, ``(leg, stage, field)``, plus each leg's name and chain length."""
    if group != "channel":
        return {(k,): v for k, v in spec.items()}
    out = {("name",): spec.get("name")}
    for i, leg in enumerate(spec.get("legs") or []):
        chain = leg.get("chain") or []
        out[(i, "name")] = leg.get("name")
        out[(i, "len")] = len(chain)
        out.update({(i, k, f): v for k, stage in enumerate(chain) for f, v in stage.items()})
    return out


def _diff(group: str, a: dict, b: dict) -> set:
    fa, fb = _fields(group, a), _fields(group, b)
    return {k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k) and k != ("name",)}


def _mixture(values: list, weights: list[float]):
    """One distribution drawing each value with its weight: a choice over constants, a histogram over
    non-overlapping [lo, hi] ranges (e.g. a reverb ladder's ``rt60_s`` ranges, with empty bins for the gaps);
    None when the values cannot be mixed in one field."""
    agg: dict = {}
    for v, w in zip(values, weights):
        key = tuple(v) if isinstance(v, list) else v
        agg[key] = agg.get(key, 0.0) + w
    tot = sum(agg.values())
    if len(agg) == 1:
        return values[0]
    if all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in agg):
        return {"choice": list(agg), "weights": [round(w / tot, 6) for w in agg.values()]}
    if all(isinstance(v, tuple) and len(v) == 2 and all(_num(x) is not None for x in v) for v in agg):
        bins = sorted(agg.items())
        if any(b[0][0] < a[0][1] for a, b in zip(bins, bins[1:])):
            return None  # overlapping ranges
        edges, counts = [bins[0][0][0]], []
        for (lo, hi), w in bins:
            if lo > edges[-1]:
                edges.append(lo)
                counts.append(0.0)  # a gap between two ranges
            edges.append(hi)
            counts.append(round(w / tot, 6))
        return {"histogram": {"edges": edges, "counts": counts}}
    return None


def merge_group(group: str, comps: list[dict]) -> tuple[dict, str, list[dict], list[dict]]:
    """One spec drawing from the components' conditions: (spec, what varies, kept, dropped).

    ``comps``: rows with ``spec`` and ``weight``. One component fixes the shape; another joins when it
    differs from it in one field (noise, room, or one stage of a channel chain) that all joined
    components vary, or, for a codec stage, only in the codec's fields (codec, bitrate per codec, ...).
    The shape that keeps the most weight wins (the heavier head on ties).
    """
    comps = sorted(comps, key=lambda c: -c["weight"])
    best = None
    for head in comps:
        spec, varies, kept = _merge_with_head(group, comps, head)
        if best is None or sum(c["weight"] for c in kept) > sum(c["weight"] for c in best[2]) + 1e-12:
            best = (spec, varies, kept)
    spec, varies, kept = best
    return spec, varies, kept, [c for c in comps if c not in kept]


def _merge_with_head(group: str, comps: list[dict], head: dict) -> tuple[dict, str, list[dict]]:
    import copy

    diffs = [_diff(group, head["spec"], c["spec"]) for c in comps]
    heavy = lambda pred: sum(c["weight"] for c, d in zip(comps, diffs) if d and pred(d))  # noqa: E731
    codec_stage = None
    if group == "channel":
        stages = {d_k[:2] for d in diffs if d for d_k in d if len(d_k) == 3}
        codec_stage = next((st for st in stages if _fields(group, head["spec"]).get((*st, "name")) == "codec"
                            and heavy(lambda d, st=st: all(k[:2] == st and k[2] in CODEC_FIELDS for k in d))), None)
    singles = {next(iter(d)) for d in diffs if len(d) == 1}
    field = max(singles, key=lambda f: heavy(lambda d: d == {f}), default=None)
    if codec_stage is not None and heavy(lambda d: all(k[:2] == codec_stage and k[2] in CODEC_FIELDS for k in d)) \
            >= heavy(lambda d: d == {field}):
        joins = lambda d: all(k[:2] == codec_stage and k[2] in CODEC_FIELDS for k in d)  # noqa: E731
        field = None
    else:
        codec_stage = None
        joins = lambda d: d == {field}  # noqa: E731
    kept = [c for c, d in zip(comps, diffs) if not d or joins(d)]
    spec = copy.deepcopy(head["spec"])
    w = [c["weight"] for c in kept]
    varies = "-"
    if field is not None and len({repr(_fields(group, c["spec"]).get(field)) for c in kept}) > 1:
        mix = _mixture([_fields(group, c["spec"]).get(field) for c in kept], w)
        if mix is None:  # e.g. overlapping ranges: only the heaviest condition
            kept = [c for c, d in zip(comps, diffs) if not d]
        else:
            _set_field(spec, field, mix)
            varies = (f"{group}.{field[0]}" if len(field) == 1
                      else f"channel.legs[{field[0]}].chain[{field[1]}].{field[2]}")
            if group == "room" and spec.get("pool_size"):  # enough simulated rooms to realize the mixture
                spec["pool_size"] = int(spec["pool_size"]) * len({repr(_fields(group, c["spec"])[field]) for c in kept})
    elif codec_stage is not None:
        def stage(c):
            return {f: _fields(group, c["spec"]).get((*codec_stage, f)) for f in CODEC_FIELDS}
        for f in ("bandwidth", "sample_rate_hz"):  # each is read by one codec family (Opus; MP3/AAC): one value
            first = next((stage(c)[f] for c in kept if stage(c)[f] is not None), None)
            kept = [c for c in kept if stage(c)[f] in (None, first)]
        stages, w = [stage(c) for c in kept], [c["weight"] for c in kept]
        i, k = codec_stage
        node = {key: v for key, v in spec["legs"][i]["chain"][k].items() if key not in CODEC_FIELDS}
        node["codec"] = _mixture([st["codec"] for st in stages], w)
        per_codec: dict = {}
        for st, wi in zip(stages, w):
            per_codec.setdefault(st["codec"], ([], []))[0].append(st["bitrate_bps"])
            per_codec[st["codec"]][1].append(wi)
        rates = {c: _mixture(v, ws) for c, (v, ws) in per_codec.items() if any(x is not None for x in v)}
        if rates:
            node["bitrate_bps"] = rates if isinstance(node["codec"], dict) else next(iter(rates.values()))
        for f in ("bandwidth", "sample_rate_hz"):
            vals = {st[f] for st in stages if st[f] is not None}
            if vals:
                node[f] = vals.pop()
        spec["legs"][i]["chain"][k] = node
        varies = f"channel.legs[{i}].chain[{k}].codec"
    return spec, varies, kept


def _set_field(spec: dict, field: tuple, value) -> None:
    if len(field) == 1:
        spec[field[0]] = value
    else:
        spec["legs"][field[0]]["chain"][field[1]][field[2]] = value


# ---------------------------------------------------------------- the plan

def make_target_plan(results_paths: list[Path], budget: float, train: Path | None = None,
                     exclude: list[str] | None = None, metric: str = "wer", n_sample: int = 50,
                     seed: int = 0, name: str = "target_plan") -> tuple[dict, list[dict], dict]:
    """(plan config, one row per slice with its weight and why, info).

    A slice whose 95% interval of the delta reaches 0 gets weight 0; else ``delta * (1 - share)``. The budget
    is split over the planned slices by weight (renormalized over what could be planned): each group draws
    from a mixture of its slices' conditions with ``p = budget * its share``; a channel's own stages that the
    suite's reference chain lacks get that ``p``, each independently. Groups no slice targets keep the first
    suite's reference condition, so a set built from the plan differs from it only by planned conditions.
    ``exclude``: suite folders recorded as ``sources.exclude`` (:mod:`synth.leakage`)."""
    if not 0.0 < budget <= 1.0:
        raise ConfigError(f"--budget {budget}: give the share of training utterances to augment, in (0, 1]")
    if metric not in ("wer", "ter"):
        raise ConfigError(f"--metric {metric!r}: allowed values are wer and ter")
    refs, rows, skipped = _read_suites(results_paths, metric)
    train_rows, train_note = training_rows(Path(train), n_sample, seed) if train else ([], "no training data given")
    for r in rows:
        _weigh(r, train_rows if train else None)
    plan: dict = {g: refs[0].get(g) for g in GROUPS + ("level",)}
    if any(ref.get("output", {}).get("sample_rate") for ref in refs):
        plan["output"] = {"sample_rate": next(ref["output"]["sample_rate"] for ref in refs
                                               if ref.get("output", {}).get("sample_rate"))}
    kept_by_group = _merge_groups(rows)
    total = sum(r["weight"] for _, _, kept in kept_by_group.values() for r in kept)
    components, gated = [], 0
    for g, (spec, varies, kept) in kept_by_group.items():
        w_g = sum(r["weight"] for r in kept) / total
        p = round(budget * w_g, 6)
        gated += _gate(g, spec, kept, p, name)
        plan[g] = spec
        for r in kept:
            r["budget_share"] = r["weight"] / total
            r["p"] = round(budget * r["budget_share"], 6)
            components.append({"suite": r["suite"], "slice": r["slice"], "group": g, "varies": varies,
                               "condition": r["condition"], "weight": round(r["weight"] / total, 6), "p": r["p"]})
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
    info = {"train_note": train_note, "gated_stages": gated, "skipped_results": skipped, "reference_mismatch": [g for g in GROUPS if any(
        ref.get(g) != refs[0].get(g) for ref in refs) and g not in kept_by_group]}
    return plan, rows, info


def _read_suites(results_paths: list[Path], metric: str) -> tuple[list[dict], list[dict], list[str]]:
    """(each suite's reference config, one row per slice, why each unusable results file was skipped)."""
    refs, rows, skipped = [], [], []
    for p in results_paths:
        got = suite_slices(Path(p), load_results(p), metric)
        if isinstance(got, str):
            skipped.append(got)
            continue
        refs.append(got[0])
        rows += got[1]
    if not refs:
        raise BadInput(results_paths[0], skipped[0].split(" scores ", 1)[1],
                       "run synth eval on a set built with suite=<name> and pass its results.json")
    return refs, rows, skipped


def _weigh(r: dict, train_rows: list | None) -> None:
    """A slice's ``condition``, its ``share`` of the training data (None without ``--train``), its
    ``weight`` (delta x (1 - share) when the interval is above zero, else 0) and ``why``."""
    r["condition"] = condition(r["groups"][0], r["spec"], r["ref_spec"]) if r["spec"] is not None else None
    comparable = r["spec"] is not None and train_rows is not None
    r["share"] = share_in(train_rows, r["groups"][0], r["condition"]) if comparable else None
    ci = r["delta_ci"]
    r["significant"] = bool(ci and r["delta"] is not None and ci[0] > 0)
    if not r["significant"]:
        r["weight"], r["why"] = 0.0, ("interval includes zero" if ci and ci[0] <= 0 <= ci[1]
                                      else "no degradation" if ci else "no paired delta")
    elif r["spec"] is None:
        r["weight"], r["why"] = 0.0, (f"changes {', '.join(r['groups'])}: only a single noise, room or channel "
                                      "change can be planned" if r["groups"] else "same config as the reference")
    else:
        r["weight"] = r["delta"] * (1.0 - (r["share"] or 0.0))
        r["why"] = "planned" if r["weight"] > 0 else "already common in the training data"


def _merge_groups(rows: list[dict]) -> dict:
    """group -> (merged spec, what varies, rows kept) for each group with weighted slices; the rows that
    cannot share the group's spec get their ``why``."""
    kept_by_group = {}
    for g in GROUPS:
        comps = [r for r in rows if r["weight"] > 0 and r["groups"] == [g]]
        if comps:
            spec, varies, kept, dropped = merge_group(g, comps)
            kept_by_group[g] = (spec, varies, kept)
            for r in dropped:
                r["why"] = f"cannot share one {g} spec with {kept[0]['slice']}: build it with its own config"
    return kept_by_group


def _gate(g: str, spec: dict, kept: list[dict], p: float, name: str) -> int:
    """Apply the group's probability ``p`` to its spec: a noise or room spec as a whole; in a channel, the
    stages the reference's own chain lacks (those it has stay on every item). Returns the stages gated."""
    if g != "channel":
        spec["p"] = round(p * float(spec.get("p", 1.0)), 6)
        return 0
    gated = 0
    ref_legs = (kept[0]["ref_spec"] or {}).get("legs") or []
    for i, leg in enumerate(spec.get("legs") or []):
        ref_chain = (ref_legs[i].get("chain") or []) if i < len(ref_legs) else []
        for stage in leg.get("chain") or []:
            if stage not in ref_chain:
                stage["p"] = round(p * float(stage.get("p", 1.0)), 6)
                gated += 1
    spec["name"] = f"{name}_channel"
    return gated


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
                     f"{'-' if r['share'] is None else format(r['share'], '.2f')} | {r['weight']:.4f} | "
                     f"{r['p']:.3f} | {r['why']} |")
    lines += ["", "Groups without planned slices keep the first suite's reference condition, and so do the stages "
              "of a planned channel that the suite's reference chain has (applied to every item)."]
    if info["reference_mismatch"]:
        lines.append(f"Note: the suites' references differ in {', '.join(info['reference_mismatch'])}; the first "
                     "suite's is used.")
    if info["gated_stages"] > 1:
        lines.append("Channel stages draw their p independently: each is applied to its planned share of items, "
                     "but a band limit and a codec co-occur on about p^2 of them.")
    lines += [f"Not used: {s}." for s in info["skipped_results"]]
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
    try:
        plan, rows, info = make_target_plan([Path(p) for p in args.results], args.budget, args.train, args.exclude,
                                            args.metric, args.sample, name=out.stem)
    except BadInput as e:  # the readers' default fix names the build's on_bad_input, which target has not
        if "on_bad_input" not in e.fix:
            raise
        raise BadInput(e.path, e.problem, "fix or remove the file, or drop its line from the --train manifest"
                       ) from None
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
