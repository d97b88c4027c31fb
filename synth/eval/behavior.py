"""Scoring per behavior, for sets built with a ``behavior`` (items with ``text_fluent`` and segment
``events``): what disfluencies cost a recognizer, in ``results.json["behavior"]`` and the report.

* ``wer_verbatim``: WER against ``text`` with fillers kept (every word spoken: "uh", "bo-", the repeat);
  ``wer_fluent``: against ``text_fluent`` (the intended sentence) with the run's normalizer (fillers
  dropped from both sides by default). A recognizer that drops fillers and false starts is right by the
  fluent reference and wrong by the verbatim one.
* ``filler_deletion_rate``: reference fillers the hypothesis does not have at their place (deleted or
  substituted) / reference fillers; ``filler_insertion_rate``: hypothesis fillers not aligned to a
  reference filler / reference words.
* ``spans``: per event type (restart = the false start's words and partial word, repetition = the copy,
  hesitation = the words on either side of the added pause, partial_word = the fragment alone: a false
  start's, or a turn cut off inside a word, which is no restart), the error rate of reference words inside
  vs outside those spans over the same items: (substitutions + deletions) / reference words (insertions
  belong to no reference word), with the paired bootstrap of the slice summaries (items resampled,
  both rates from the same resample) for each rate and their difference.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..align.text import HESITATIONS
from ..rng import item_rng
from .metrics import _ratio, align, bootstrap_pair, bootstrap_ratio, interval
from .normalize import NormalizerConfig, normalize

SPAN_TYPES = ("restart", "repetition", "hesitation", "partial_word")


def _word_tags(seg: dict) -> list[set[str]]:
    """Per whitespace token of ``seg["text"]``: the event types it belongs to (empty when outside all)."""
    toks = seg["text"].split()
    words = seg.get("words") or []
    tags: list[set[str]] = [set() for _ in toks]
    if len(words) != len(toks):
        return tags
    mids = [(w["start"] + w["end"]) / 2 for w in words]
    for e in seg.get("events") or []:
        kind = e["type"]  # a false start's fragment lies inside its restart's span as well
        if kind == "hesitation":
            before = [i for i, w in enumerate(words) if w["end"] <= e["start"] + 1e-4]
            after = [i for i, w in enumerate(words) if w["start"] >= e["end"] - 1e-4]
            for i in before[-1:] + after[:1]:
                tags[i].add(kind)
        else:
            for i, m in enumerate(mids):
                if e["start"] - 1e-4 <= m <= e["end"] + 1e-4:
                    tags[i].add(kind)
    return tags


def ref_tags(item: dict, cfg: NormalizerConfig) -> list[set[str]] | None:
    """Event types of every normalized reference token of ``item["text"]`` (None when normalizing word by
    word does not give the same tokens as normalizing the whole text: the item is left out of ``spans``)."""
    out: list[set[str]] = []
    for seg in item.get("segments") or []:
        for tok, tags in zip(seg["text"].split(), _word_tags(seg)):
            out += [tags for _ in normalize(tok, cfg).split()]
    return out if len(out) == len(normalize(item["text"], cfg).split()) else None


def score_behavior(item: dict, hyp: str, norm: NormalizerConfig) -> dict:
    """One item's behavior scores (see the module docstring)."""
    verbatim = replace(norm, remove_fillers=False)
    fillers = {f.lower() for f in norm.fillers} | HESITATIONS
    v = align(normalize(item["text"], verbatim), normalize(hyp, verbatim))
    f = align(normalize(item["text_fluent"], norm), normalize(hyp, norm))
    ops = v["ops"]
    out = {"verbatim": [v["errors"], v["ref_words"]], "fluent": [f["errors"], f["ref_words"]],
           "ref_fillers": sum(op[1] in fillers for op in ops),
           "filler_deleted": sum(op[1] in fillers and op[0] != "eq" for op in ops),
           "filler_inserted": sum(op[2] in fillers and not (op[0] == "eq" or op[1] in fillers) for op in ops),
           "events": {}}
    for s in item.get("segments") or []:
        for e in s.get("events") or []:
            out["events"][e["type"]] = out["events"].get(e["type"], 0) + 1
    tags = ref_tags(item, verbatim)
    if tags is not None:
        spans = {k: [0, 0] for k in (*SPAN_TYPES, "outside")}
        i = 0
        for op in ops:
            if op[0] == "ins":
                continue
            t = tags[i]
            i += 1
            err = int(op[0] != "eq")
            for k in [k for k in SPAN_TYPES if k in t] or (["outside"] if not t and op[1] not in fillers else []):
                spans[k][0] += err
                spans[k][1] += 1
        out["spans"] = spans
    return out


def _rate(num, den, rng, cfg) -> dict:
    num, den = np.asarray(num, float), np.asarray(den, float)
    return {"rate": _ratio(num.sum(), den.sum()), "ci": interval(bootstrap_ratio(num, den, rng, cfg.n_boot), cfg.level),
            "num": int(num.sum()), "den": int(den.sum())}


def summarize_behavior(scores: list[dict], name: str, cfg) -> dict:
    """Corpus ratios with bootstrap intervals over one group of items' :func:`score_behavior` results."""
    rng = lambda what: item_rng(cfg.seed, f"behavior/{name}", what)  # noqa: E731
    col = lambda f: [f(s) for s in scores]  # noqa: E731
    out = {"n_items": len(scores), "events": {}}
    for s in scores:
        for k, n in s["events"].items():
            out["events"][k] = out["events"].get(k, 0) + n
    out["wer_verbatim"] = _rate(col(lambda s: s["verbatim"][0]), col(lambda s: s["verbatim"][1]), rng("verbatim"), cfg)
    out["wer_fluent"] = _rate(col(lambda s: s["fluent"][0]), col(lambda s: s["fluent"][1]), rng("fluent"), cfg)
    out["filler_deletion_rate"] = _rate(col(lambda s: s["filler_deleted"]), col(lambda s: s["ref_fillers"]),
                                        rng("filler_del"), cfg)
    out["filler_insertion_rate"] = _rate(col(lambda s: s["filler_inserted"]), col(lambda s: s["verbatim"][1]),
                                         rng("filler_ins"), cfg)
    spans = {}
    with_spans = [s for s in scores if "spans" in s]
    for k in SPAN_TYPES:
        its = [s for s in with_spans if s["spans"][k][1] > 0 and s["spans"]["outside"][1] > 0]
        if not its:
            continue
        ne, nw = (np.array([s["spans"][k][j] for s in its], float) for j in (0, 1))
        oe, ow = (np.array([s["spans"]["outside"][j] for s in its], float) for j in (0, 1))
        ra, rb = bootstrap_pair(ne, nw, oe, ow, rng(f"span/{k}"), cfg.n_boot)
        inside, outside = _ratio(ne.sum(), nw.sum()), _ratio(oe.sum(), ow.sum())
        spans[k] = {"n_items": len(its), "inside_words": int(nw.sum()), "outside_words": int(ow.sum()),
                    "inside": inside, "inside_ci": interval(ra, cfg.level),
                    "outside": outside, "outside_ci": interval(rb, cfg.level),
                    "delta": inside - outside, "delta_ci": interval(ra - rb, cfg.level)}
    out["spans"] = spans
    out["items_without_span_mapping"] = len(scores) - len(with_spans)
    return out


def behavior_results(items: list[dict], scored: list[dict], norm: NormalizerConfig, cfg) -> dict:
    """``{"behavior": {...}}`` for ``results.json`` when the set was built with a behavior, else ``{}``:
    ``overall`` and, for suites, per ``slice`` (a fluent slice built with behavior=none is scored too, its
    references being its own text)."""
    if not any("text_fluent" in it for it in items):
        return {}
    scores, slices = [], {}
    for it, sc in zip(items, scored):
        s = score_behavior({**it, "text_fluent": it.get("text_fluent", it["text"])}, sc["hyp"], norm)
        scores.append(s)
        slices.setdefault(sc["slice"], []).append(s)
    out = {"overall": summarize_behavior(scores, "all", cfg)}
    if len(slices) > 1:
        out["slices"] = {k: summarize_behavior(v, k, cfg) for k, v in slices.items()}
    return {"behavior": out}


def _pct(r: dict | float | None, ci=None) -> str:
    if isinstance(r, dict):
        r, ci = r.get("rate"), r.get("ci")
    if r is None:
        return "–"
    return f"{100 * r:.1f}%" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")


def _delta(s: dict) -> str:
    ci = s.get("delta_ci")
    return f"{100 * s['delta']:+.1f} pts" + (f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]" if ci else "")


def behavior_html(results: dict) -> str:
    """The report's "Behavior" section ("" for a set built without a behavior)."""
    import html
    b = results.get("behavior")
    if not b:
        return ""
    groups = [("all", b["overall"])] + list((b.get("slices") or {}).items())
    rows = "".join(
        f"<tr><td class=l>{html.escape(str(name))}</td><td>{g['n_items']}</td>"
        f"<td class=l>{html.escape(', '.join(f'{k} {n}' for k, n in sorted(g['events'].items())) or '–')}</td>"
        f"<td>{_pct(g['wer_verbatim'])}</td><td>{_pct(g['wer_fluent'])}</td>"
        f"<td>{_pct(g['filler_deletion_rate'])}</td><td>{_pct(g['filler_insertion_rate'])}</td></tr>"
        for name, g in groups)
    spans = "".join(
        f"<tr><td class=l>{html.escape(str(name))}</td><td class=l>{k}</td><td>{s['n_items']}</td>"
        f"<td>{_pct(s['inside'], s['inside_ci'])} ({s['inside_words']} words)</td>"
        f"<td>{_pct(s['outside'], s['outside_ci'])}</td>"
        f"<td>{_delta(s)}</td></tr>"
        for name, g in groups for k, s in g["spans"].items())
    return ("<h2>Behavior</h2><p class=legend>WER against the verbatim reference (fillers, false starts and "
            "repeats kept) and the fluent one (the intended sentence); filler deletion = reference fillers "
            "missed, insertion = hypothesis fillers per reference word; 95% bootstrap intervals over items.</p>"
            "<table><tr><th class=l>slice</th><th>items</th><th class=l>events</th><th>WER verbatim</th>"
            "<th>WER fluent</th><th>filler deletion</th><th>filler insertion</th></tr>" + rows + "</table>"
            + ("<h3>Words inside behavior spans vs outside (same items, paired)</h3><table><tr><th class=l>slice"
               "</th><th class=l>span</th><th>items</th><th>error rate inside</th><th>outside</th><th>Δ</th></tr>"
               + spans + "</table>" if spans else ""))
