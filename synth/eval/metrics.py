"""Scoring on normalized text (:mod:`synth.eval.normalize`): per-item WER/CER with alignments, cpWER/ORC-WER
and DER for multi-talker items, and per-slice and per-condition summaries with bootstrap 95% intervals and
paired deltas against the reference slice (definitions at :func:`summarize_group` and :func:`paired_delta`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import jiwer
import numpy as np

from ..audio import text_lines
from ..rng import item_rng
from .normalize import NormalizerConfig, normalize

ALL = "all"


# ---------------------------------------------------------------- per item

def align(ref: str, hyp: str) -> dict:
    """Word-level Levenshtein alignment of two normalized strings.

    Returns counts (``errors ref_words substitutions deletions insertions hits``) and ``ops``: a list of
    ``[op, ref_word, hyp_word]`` with op in eq/sub/del/ins (``None`` for the missing side).
    """
    r, h = ref.split(), hyp.split()
    ops: list[list] = []
    if not r or not h:
        ops = [["del", w, None] for w in r] + [["ins", None, w] for w in h]
        s, d, i, hits = 0, len(r), len(h), 0
    else:
        out = jiwer.process_words(" ".join(r), " ".join(h))
        s, d, i, hits = out.substitutions, out.deletions, out.insertions, out.hits
        for c in out.alignments[0]:
            rw, hw = r[c.ref_start_idx:c.ref_end_idx], h[c.hyp_start_idx:c.hyp_end_idx]
            if c.type == "equal":
                ops += [["eq", a, b] for a, b in zip(rw, hw)]
            elif c.type == "substitute":
                ops += [["sub", a, b] for a, b in zip(rw, hw)]
            elif c.type == "delete":
                ops += [["del", a, None] for a in rw]
            else:
                ops += [["ins", None, b] for b in hw]
    return {"errors": s + d + i, "ref_words": len(r), "substitutions": s, "deletions": d, "insertions": i,
            "hits": hits, "ops": ops}


def char_errors(ref: str, hyp: str) -> dict:
    """Character edit counts (jiwer CER conventions: spaces are characters)."""
    if not ref or not hyp:
        return {"errors": len(ref) + len(hyp), "ref_chars": len(ref)}
    out = jiwer.process_characters(ref, hyp)
    return {"errors": out.substitutions + out.deletions + out.insertions, "ref_chars": len(ref)}


def pair_key(item: dict) -> str:
    """What makes items in different slices 'the same speech': pair_id, else source ids, else the id."""
    if item.get("pair_id") not in (None, ""):
        return str(item["pair_id"])
    ids = sorted({str(s["source_id"]) for s in item.get("segments") or [] if s.get("source_id")})
    return "|".join(ids) if ids else str(item["id"])


def slice_name(item: dict) -> str:
    """The item's slice: ``slice["slice"]`` if present, else its labels joined ``k=v,...``, else 'all'."""
    sl = item.get("slice") or {}
    if isinstance(sl, str):
        return sl
    if sl.get("slice") not in (None, ""):
        return str(sl["slice"])
    return ",".join(f"{k}={sl[k]}" for k in sorted(sl)) or ALL


def _sorted_segments(item: dict) -> list[dict]:
    return sorted(item.get("segments") or [], key=lambda s: (float(s.get("start", 0.0)), float(s.get("end", 0.0))))


def lost_counts(item: dict, ref_norm: str, ops: list, cfg: NormalizerConfig) -> dict:
    """Reference words inside segments flagged ``lost`` (packet loss removed their audio: not recognition
    errors): ``lost_words``, and ``lost_word_errors``, the errors aligned to them. When the segment texts do
    not line up with the item's reference, every lost word counts as an error (an upper bound)."""
    segs = _sorted_segments(item)
    seg_words = [normalize(s.get("text", ""), cfg).split() for s in segs]
    lost_flags = [bool(s.get("lost")) for s in segs]
    lost_words = sum(len(w) for w, f in zip(seg_words, lost_flags) if f)
    if lost_words == 0:
        return {"lost_words": 0, "lost_word_errors": 0, "attributed": True}
    concat = [w for ws in seg_words for w in ws]
    if concat == ref_norm.split():
        lost_idx = set()
        k = 0
        for ws, f in zip(seg_words, lost_flags):
            if f:
                lost_idx.update(range(k, k + len(ws)))
            k += len(ws)
        errs, ri = 0, 0
        for op, _, _ in ops:
            if op == "ins":
                continue
            if ri in lost_idx and op != "eq":
                errs += 1
            ri += 1
        return {"lost_words": lost_words, "lost_word_errors": errs, "attributed": True}
    n_ref_errs = sum(1 for op, _, _ in ops if op in ("sub", "del"))
    return {"lost_words": lost_words, "lost_word_errors": min(lost_words, n_ref_errs), "attributed": False}


def multitalker_scores(item: dict, hyp: dict, cfg: NormalizerConfig) -> dict | None:
    """cpWER and ORC-WER (meeteval) for items with two or more reference speakers. cpWER: concatenated
    minimum-permutation WER; the hypothesis is one stream unless the engine returned per-speaker text, so
    reference speakers a single stream is not assigned to count as deletions. ORC-WER: each reference
    utterance goes to the hypothesis stream that fits it best, the informative number for a single-stream
    ASR on a mix."""
    segs = [s for s in _sorted_segments(item) if normalize(s.get("text", ""), cfg)]
    speakers = sorted({str(s.get("speaker")) for s in segs})
    if len(speakers) < 2:
        return None
    from meeteval.wer.wer.cp import cp_word_error_rate
    from meeteval.wer.wer.orc import orc_word_error_rate

    ref_spk = {spk: " ".join(normalize(s["text"], cfg) for s in segs if str(s.get("speaker")) == spk)
               for spk in speakers}
    streams = hyp.get("speakers") or {}
    hyp_streams = ({str(k): normalize(v, cfg) for k, v in streams.items()} if streams
                   else {"hyp": normalize(hyp.get("text", ""), cfg)})
    cp = cp_word_error_rate(ref_spk, hyp_streams, reference_sort=False, hypothesis_sort=False)
    orc = orc_word_error_rate([normalize(s["text"], cfg) for s in segs], hyp_streams,
                              reference_sort=False, hypothesis_sort=False)

    def pack(er):
        return {"errors": int(er.errors), "ref_words": int(er.length), "substitutions": int(er.substitutions),
                "deletions": int(er.deletions), "insertions": int(er.insertions)}

    return {"n_ref_speakers": len(speakers), "n_hyp_streams": len(hyp_streams),
            "cpwer": {**pack(cp), "missed_speakers": int(cp.missed_speaker),
                      "falarm_speakers": int(cp.falarm_speaker)},
            "orcwer": pack(orc)}


def der_scores(item: dict, hyp: dict) -> dict | None:
    """Diarization error (seconds; pyannote.metrics, collar 0, overlap scored) against the manifest
    segments, when the hypothesis has speaker turns."""
    hyp_segs = [s for s in hyp.get("segments") or [] if s.get("speaker") is not None]
    if not hyp_segs:
        return None
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, h = Annotation(), Annotation()
    for k, s in enumerate(item.get("segments") or []):
        if float(s["end"]) > float(s["start"]):
            ref[Segment(float(s["start"]), float(s["end"])), k] = str(s.get("speaker"))
    for k, s in enumerate(hyp_segs):
        if float(s["end"]) > float(s["start"]):
            h[Segment(float(s["start"]), float(s["end"])), k] = str(s["speaker"])
    end = max([float(item.get("duration") or 0.0)] + [float(s["end"]) for s in hyp_segs]
              + [float(s["end"]) for s in item.get("segments") or []])
    d = DiarizationErrorRate(collar=0.0, skip_overlap=False)(ref, h, detailed=True,
                                                              uem=Timeline([Segment(0.0, end)]))
    return {"errors_s": d["confusion"] + d["missed detection"] + d["false alarm"], "total_s": d["total"],
            "confusion_s": d["confusion"], "missed_s": d["missed detection"], "false_alarm_s": d["false alarm"]}


def score_item(item: dict, hyp: dict, cfg: NormalizerConfig | None = None) -> dict:
    """Everything the summaries and the report need about one item, JSON-serialisable.

    ``hyp`` is ``{"text": str}`` plus optional ``speakers`` ({label: text}) and ``segments``
    ([{speaker, start, end, text}]).
    """
    cfg = cfg or NormalizerConfig()
    ref_norm = normalize(item.get("text", ""), cfg)
    hyp_norm = normalize(hyp.get("text", ""), cfg)
    w = align(ref_norm, hyp_norm)
    ops = w.pop("ops")
    c = char_errors(ref_norm, hyp_norm)
    return {
        "id": str(item["id"]),
        "audio_filepath": item.get("audio_filepath"),
        "duration": item.get("duration"),
        "slice": slice_name(item),
        "slice_labels": {k: v for k, v in (item.get("slice") or {}).items()} if isinstance(item.get("slice"), dict) else {},
        "conditions": item.get("conditions") or {},
        "pair_key": pair_key(item),
        "ref": item.get("text", ""), "hyp": hyp.get("text", ""),
        "ref_norm": ref_norm, "hyp_norm": hyp_norm,
        "wer": w, "cer": c,
        "lost": lost_counts(item, ref_norm, ops, cfg),
        "multitalker": multitalker_scores(item, hyp, cfg),
        "der": der_scores(item, hyp),
        "alignment": ops,
    }


# ---------------------------------------------------------------- bootstrap

def _boot_indices(rng: np.random.Generator, n: int, n_boot: int, chunk_elems: int = 4_000_000):
    rows = max(1, chunk_elems // max(n, 1))
    done = 0
    while done < n_boot:
        b = min(rows, n_boot - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


def bootstrap_ratio(num, den, rng: np.random.Generator, n_boot: int = 1000) -> np.ndarray:
    """Bootstrap replicates of sum(num)/sum(den), resampling units (rows) with replacement."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    out = []
    for idx in _boot_indices(rng, len(num), n_boot):
        d = den[idx].sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(d > 0, num[idx].sum(1) / np.where(d > 0, d, 1), np.nan))
    return np.concatenate(out) if out else np.zeros(0)


def bootstrap_pair(num_a, den_a, num_b, den_b, rng: np.random.Generator, n_boot: int = 1000):
    """Replicates (ratio_a, ratio_b) with the same resampled units for both sides (paired bootstrap)."""
    arrs = [np.asarray(x, float) for x in (num_a, den_a, num_b, den_b)]
    ra, rb = [], []
    for idx in _boot_indices(rng, len(arrs[0]), n_boot):
        na, da, nb, db = (x[idx].sum(1) for x in arrs)
        with np.errstate(invalid="ignore", divide="ignore"):
            ra.append(np.where(da > 0, na / np.where(da > 0, da, 1), np.nan))
            rb.append(np.where(db > 0, nb / np.where(db > 0, db, 1), np.nan))
    if not ra:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(ra), np.concatenate(rb)


def bootstrap_paired_delta(num_a, den_a, num_b, den_b, rng: np.random.Generator, n_boot: int = 1000) -> np.ndarray:
    """Replicates of ratio_a - ratio_b with the same resampled units for both (paired bootstrap)."""
    ra, rb = bootstrap_pair(num_a, den_a, num_b, den_b, rng, n_boot)
    return ra - rb


def interval(reps: np.ndarray, level: float = 0.95) -> list[float] | None:
    """Percentile interval of bootstrap replicates (NaN replicates, from all-empty resamples, dropped)."""
    reps = np.asarray(reps, float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return None
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [a, 1.0 - a])
    return [float(lo), float(hi)]


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den > 0 else None


# ---------------------------------------------------------------- summaries

@dataclass(frozen=True)
class SummaryConfig:
    seed: int = 0
    n_boot: int = 1000
    level: float = 0.95


def summarize_group(name: str, items: list[dict], cfg: SummaryConfig) -> dict:
    """Corpus-level metrics of a group of scored items, with bootstrap CIs.

    WER = sum of word errors (substitutions + deletions + insertions) / sum of reference words: a corpus
    ratio, not a mean of item rates, so long items weigh more; CER likewise on characters (spaces count, as
    in jiwer); ``wer_excl_lost`` leaves out words lost to packet loss (:func:`lost_counts`), ``wer`` (used
    by gates) counts everything. 95% CI: the items are resampled ``n_boot`` times (errors within an
    utterance are correlated, so items are the unit), 2.5th and 97.5th percentiles; each group draws from
    its own ``item_rng(seed, "bootstrap/<group>")``, so adding a slice never moves another's interval."""
    e = np.array([it["wer"]["errors"] for it in items], float)
    n = np.array([it["wer"]["ref_words"] for it in items], float)
    ce = np.array([it["cer"]["errors"] for it in items], float)
    cn = np.array([it["cer"]["ref_chars"] for it in items], float)
    lw = np.array([it["lost"]["lost_words"] for it in items], float)
    le = np.array([it["lost"]["lost_word_errors"] for it in items], float)
    rng = item_rng(cfg.seed, f"bootstrap/{name}", "wer")
    out = {
        "n_items": len(items),
        "duration_s": float(sum(float(it.get("duration") or 0.0) for it in items)),
        "ref_words": int(n.sum()), "errors": int(e.sum()),
        "substitutions": int(sum(it["wer"]["substitutions"] for it in items)),
        "deletions": int(sum(it["wer"]["deletions"] for it in items)),
        "insertions": int(sum(it["wer"]["insertions"] for it in items)),
        "wer": _ratio(e.sum(), n.sum()),
        "wer_ci": interval(bootstrap_ratio(e, n, rng, cfg.n_boot), cfg.level),
        "cer": _ratio(ce.sum(), cn.sum()),
        "cer_ci": interval(bootstrap_ratio(ce, cn, item_rng(cfg.seed, f"bootstrap/{name}", "cer"), cfg.n_boot),
                           cfg.level),
        "lost_words": int(lw.sum()), "lost_word_errors": int(le.sum()),
        "wer_excl_lost": _ratio(e.sum() - le.sum(), n.sum() - lw.sum()),
    }
    if lw.sum() > 0:
        out["wer_excl_lost_ci"] = interval(bootstrap_ratio(e - le, n - lw, item_rng(cfg.seed, f"bootstrap/{name}",
                                                                                     "excl"), cfg.n_boot), cfg.level)
    mt = [it["multitalker"] for it in items if it.get("multitalker")]
    for key in ("cpwer", "orcwer"):
        if mt:
            me = np.array([m[key]["errors"] for m in mt], float)
            mn = np.array([m[key]["ref_words"] for m in mt], float)
            out[key] = _ratio(me.sum(), mn.sum())
            out[f"{key}_ci"] = interval(bootstrap_ratio(me, mn, item_rng(cfg.seed, f"bootstrap/{name}", key),
                                                        cfg.n_boot), cfg.level)
            out[f"{key}_items"] = len(mt)
    ders = [it["der"] for it in items if it.get("der")]
    if ders:
        de = np.array([d["errors_s"] for d in ders])
        dt = np.array([d["total_s"] for d in ders])
        out["der"] = _ratio(de.sum(), dt.sum())
        out["der_ci"] = interval(bootstrap_ratio(de, dt, item_rng(cfg.seed, f"bootstrap/{name}", "der"),
                                                 cfg.n_boot), cfg.level)
        out["der_items"] = len(ders)
    return out


def find_reference_slice(slices: list[str], items: list[dict], requested: str | None) -> str | None:
    """The clean reference slice: ``requested`` if given, else a slice named 'clean' (or whose labels
    contain the value 'clean'), else None (then no paired deltas are computed)."""
    if requested:
        return requested if requested in slices else None
    if "clean" in slices:
        return "clean"
    for it in items:
        if "clean" in {str(v) for v in it.get("slice_labels", {}).values()}:
            return it["slice"]
    return None


def paired_delta(a_items: list[dict], b_items: list[dict], name: str, cfg: SummaryConfig,
                 metric: str = "wer") -> dict | None:
    """WER(a) - WER(b) over pair keys present in both, with a paired bootstrap CI. Items pair by source
    (:func:`pair_key`); per key, errors and reference words are summed within each slice, and the CI resamples
    keys (the same keys for both slices), so the variance shared by a pair (a hard utterance is hard
    everywhere) cancels."""
    def per_key(items):
        acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for it in items:
            acc[it["pair_key"]][0] += it[metric]["errors"]
            acc[it["pair_key"]][1] += it[metric]["ref_words" if metric == "wer" else "ref_chars"]
        return acc

    a, b = per_key(a_items), per_key(b_items)
    keys = sorted(set(a) & set(b))
    if not keys:
        return None
    na, da = np.array([a[k][0] for k in keys]), np.array([a[k][1] for k in keys])
    nb, db = np.array([b[k][0] for k in keys]), np.array([b[k][1] for k in keys])
    wa, wb = _ratio(na.sum(), da.sum()), _ratio(nb.sum(), db.sum())
    reps = bootstrap_paired_delta(na, da, nb, db, item_rng(cfg.seed, f"paired/{name}", metric), cfg.n_boot)
    return {"n_pairs": len(keys), "wer": wa, "ref_wer": wb,
            "delta": None if wa is None or wb is None else wa - wb, "delta_ci": interval(reps, cfg.level)}


def condition_dimensions(items: list[dict], max_values: int = 20) -> dict[str, dict[str, list[dict]]]:
    """Group items by each slice label (except the slice name itself) and by each categorical condition
    (string/bool/int values, at most ``max_values`` distinct), e.g. ``{"codec": {"amr_nb": [...]}}``."""
    dims: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for it in items:
        for k, v in it.get("slice_labels", {}).items():
            if k != "slice":
                dims[f"slice.{k}"][str(v)].append(it)
        for k, v in (it.get("conditions") or {}).items():
            if isinstance(v, (str, bool, int)) and not isinstance(v, float):
                dims[f"conditions.{k}"][str(v)].append(it)
    return {d: dict(vals) for d, vals in dims.items() if 1 < len(vals) <= max_values
            or (d.startswith("slice.") and len(vals) > 1)}


def summarize(scored: list[dict], cfg: SummaryConfig | None = None, ref_slice: str | None = None) -> dict:
    """Overall, per-slice, per-condition-value summaries and paired deltas vs the reference slice."""
    cfg = cfg or SummaryConfig()
    by_slice: dict[str, list[dict]] = defaultdict(list)
    for it in scored:
        by_slice[it["slice"]].append(it)
    slices = list(by_slice)  # first-seen order = manifest order
    ref = find_reference_slice(slices, scored, ref_slice)
    out_slices = {}
    for s in slices:
        out_slices[s] = summarize_group(f"slice/{s}", by_slice[s], cfg)
        labels = by_slice[s][0].get("slice_labels", {})
        out_slices[s]["labels"] = labels
        if ref is not None and s != ref:
            out_slices[s]["paired_vs_ref"] = paired_delta(by_slice[s], by_slice[ref], f"{s}-vs-{ref}", cfg)
    dims = {}
    for d, vals in condition_dimensions(scored).items():
        dims[d] = {v: summarize_group(f"{d}={v}", its, cfg) for v, its in vals.items()}
    return {"overall": summarize_group(ALL, scored, cfg), "reference_slice": ref, "slices": out_slices,
            "dimensions": dims}


# ---------------------------------------------------------------- domain terms

def load_terms(path, cfg: NormalizerConfig | None = None) -> list[tuple[str, ...]]:
    """A term list: one term per line (product names, digits, account words; multi-word terms allowed),
    normalized like the transcripts so ``AcmePay`` matches ``acmepay`` and ``10`` matches ``ten``. Empty
    lines and lines starting with ``#`` are ignored. Longest terms first (matching prefers them)."""
    from pathlib import Path

    from ..errors import BadInput

    p = Path(path)
    try:
        lines = list(text_lines(p))
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(p, f"cannot be read as a term list ({e.__class__.__name__})",
                       "give terms=<text file with one term per line>") from None
    cfg = cfg or NormalizerConfig()
    terms = {tuple(normalize(l, cfg).split()) for l in lines if l.strip() and not l.startswith("#")}
    terms.discard(())
    if not terms:
        raise BadInput(p, "holds no terms", "write one term per line")
    return sorted(terms, key=lambda t: (-len(t), t))


def find_terms(words: list[str], terms: list[tuple[str, ...]]) -> list[tuple[int, tuple[str, ...]]]:
    """Non-overlapping term occurrences (start index, term), scanning left to right, longest term first."""
    out, i = [], 0
    while i < len(words):
        hit = next((t for t in terms if tuple(words[i:i + len(t)]) == t), None)
        if hit:
            out.append((i, hit))
            i += len(hit)
        else:
            i += 1
    return out


def term_counts(ref_norm: str, hyp_norm: str, ops: list, terms: list[tuple[str, ...]]) -> dict:
    """Term hits, misses and false insertions of one item, from its word alignment.

    A reference term occurrence is **recognized** when each of its words is aligned as correct (``eq``) to
    consecutive hypothesis words; otherwise it is **missed**. A hypothesis term occurrence that is not the
    aligned image of a recognized reference occurrence is a **false insertion** (a term said where it was
    not, or in the wrong place). Then ``term recall = recognized / reference occurrences`` and the
    **term error rate** ``TER = (missed + false insertions) / reference occurrences`` (as WER counts
    deletions + insertions over reference words; it can exceed 1).
    """
    r_words, h_words = ref_norm.split(), hyp_norm.split()
    ref2hyp, ri, hi = {}, 0, 0
    for op, _, _ in ops:
        if op == "eq":
            ref2hyp[ri] = hi
        ri += op in ("eq", "sub", "del")
        hi += op in ("eq", "sub", "ins")
    recognized = set()  # (hyp start, term)
    n_ref = n_hit = 0
    for i, t in find_terms(r_words, terms):
        n_ref += 1
        img = [ref2hyp.get(i + k) for k in range(len(t))]
        if None not in img and img == list(range(img[0], img[0] + len(t))):
            n_hit += 1
            recognized.add((img[0], t))
    n_false = sum(1 for j, t in find_terms(h_words, terms) if (j, t) not in recognized)
    return {"ref": n_ref, "recognized": n_hit, "missed": n_ref - n_hit, "false": n_false,
            "errors": n_ref - n_hit + n_false}


def summarize_terms(scored: list[dict], terms: list[tuple[str, ...]], cfg: SummaryConfig | None = None,
                    ref_slice: str | None = None) -> dict:
    """Adds ``terms`` counts to every scored item and returns term recall / TER (with bootstrap CIs over
    items, and the paired TER delta vs the reference slice) overall and per slice."""
    cfg = cfg or SummaryConfig()
    for it in scored:
        it["terms"] = term_counts(it["ref_norm"], it["hyp_norm"], it["alignment"], terms)

    def group(name: str, items: list[dict]) -> dict:
        e = np.array([it["terms"]["errors"] for it in items], float)
        n = np.array([it["terms"]["ref"] for it in items], float)
        hits = np.array([it["terms"]["recognized"] for it in items], float)
        tot = {k: int(sum(it["terms"][k] for it in items)) for k in ("ref", "recognized", "missed", "false")}
        rng = item_rng(cfg.seed, f"bootstrap/{name}", "ter")
        return {**tot, "recall": _ratio(hits.sum(), n.sum()), "ter": _ratio(e.sum(), n.sum()),
                "ter_ci": interval(bootstrap_ratio(e, n, rng, cfg.n_boot), cfg.level)}

    by_slice: dict[str, list[dict]] = defaultdict(list)
    for it in scored:
        by_slice[it["slice"]].append(it)
    ref = find_reference_slice(list(by_slice), scored, ref_slice)
    slices = {s: group(f"terms/{s}", its) for s, its in by_slice.items()}
    if ref is not None:
        ref_keys = {it["pair_key"]: it for it in by_slice[ref]}
        for s, its in by_slice.items():
            pairs = [(it, ref_keys[it["pair_key"]]) for it in its if it["pair_key"] in ref_keys]
            if s == ref or not pairs:
                continue
            cols = [np.array([x["terms"][k] for x in side], float)
                    for side in zip(*pairs) for k in ("errors", "ref")]
            reps = bootstrap_paired_delta(*cols, item_rng(cfg.seed, f"paired/terms/{s}", "ter"), cfg.n_boot)
            a, b = _ratio(cols[0].sum(), cols[1].sum()), _ratio(cols[2].sum(), cols[3].sum())
            slices[s]["paired_vs_ref"] = {"n_pairs": len(pairs), "ter": a, "ref_ter": b,
                                          "delta": None if a is None or b is None else a - b,
                                          "delta_ci": interval(reps, cfg.level)}
    return {"terms": [" ".join(t) for t in terms], "overall": group("terms/all", scored), "slices": slices,
            "definition": "recall = recognized reference term occurrences / reference term occurrences; "
                          "TER = (missed + falsely inserted term occurrences) / reference term occurrences"}
