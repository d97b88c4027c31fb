"""Static HTML report of an eval: one folder that opens from disk (no server, no network, no scripts).

``report/index.html`` (skeleton and CSS: ``assets/eval/report.html`` and ``report.css``), ``plots/*.png``
(matplotlib Agg) and ``audio/`` (copies of the worst items, so the folder can be zipped or moved). Every
string from the data goes through ``html.escape`` (URLs are percent-encoded first).
"""

from __future__ import annotations

import html
import math
import re
import shutil
import urllib.parse
from pathlib import Path
from string import Template

from ..audio import atomic_write_text
from ..shipped import asset_text
from .behavior import behavior_html

ESC = html.escape
# Below this many items a slice's bootstrap interval says little (one item gives [x, x]): such rows are
# marked in the tables and their points drawn faint, without error bars.
MIN_ITEMS = 5


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci) -> str:
    return "" if not ci else f' <span class="ci">[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]</span>'


def _delta(pd) -> str:
    if not pd or pd.get("delta") is None:
        return "–"
    d, ci = pd["delta"], pd.get("delta_ci")
    cls = "bad" if ci and ci[0] > 0 else ("good" if ci and ci[1] < 0 else "")
    ci_s = f' <span class="ci">[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]</span>' if ci else ""
    return f'<span class="{cls}">{100 * d:+.1f} pts</span>{ci_s}'


def _few(n: int, min_items: int) -> bool:
    return n < min_items


def _tr(n: int, min_items: int) -> str:
    """A row's opening tag: rows of fewer than ``min_items`` items are marked (class ``few``)."""
    return '<tr class="few">' if _few(n, min_items) else "<tr>"


def _n(n: int, min_items: int) -> str:
    if not _few(n, min_items):
        return str(n)
    return f'{n}<span class="few-mark" title="fewer than {min_items} items">†</span>'


def _few_note(rows: list[int], min_items: int) -> str:
    if not any(_few(n, min_items) for n in rows):
        return ""
    return (f'<p class="legend">† fewer than {min_items} items: the interval says little (one item gives '
            "[x, x]); shown greyed, and drawn faint without error bars in the plots.</p>")


_NUM = r"-?\d+(?:\.\d+)?"
_UNIT = r"\s*(?:[a-zA-Z]+|%)?"


def bin_range(label: str) -> tuple[float, float] | None:
    """The numeric range a bin label stands for: '10-15' -> (10, 15), '<0.3s' -> (-inf, 0.3),
    '>=30' -> (30, inf), '0.3-0.6 s' -> (0.3, 0.6), '10 dB' -> (10, 10); None for anything else."""
    s = label.strip()
    m = re.fullmatch(rf"({_NUM}){_UNIT}\s*(?:-|to|\.\.)\s*({_NUM}){_UNIT}", s)
    if m:
        return float(m.group(1)), float(m.group(2))
    m = re.fullmatch(rf"(<=?|>=?)\s*({_NUM}){_UNIT}", s)
    if m:
        x = float(m.group(2))
        return (-math.inf, x) if m.group(1).startswith("<") else (x, math.inf)
    m = re.fullmatch(rf"({_NUM}){_UNIT}", s)
    return (float(m.group(1)),) * 2 if m else None


def _ranges(values: list[str]) -> dict[str, tuple[float, float]]:
    """The values that are numeric bins, with their ranges: bin labels (:func:`bin_range`), and names around
    one number when every such name has the same shape ('snr_20', 'snr_5', 'snr_-5'), not 'g711_ulaw', 'g722'."""
    out = {v: r for v in values if (r := bin_range(v)) is not None}
    named = {v: m for v in values if v not in out and v.strip().lower() not in CLEAN_WORDS
             and (m := re.search(_NUM, v))}
    if len({v[:m.start()] + "#" + v[m.end():] for v, m in named.items()}) == 1:
        out.update({v: (float(m.group()),) * 2 for v, m in named.items()})
    return out


CLEAN_WORDS = {"clean", "none", "off", "no", "reference", "ref", "false", "dry"}


def severity_order(dim: str, values: list[str]) -> list[str]:
    """A dimension's values from mild to severe: 'clean'/'dry'/'none' first, then the numeric bins by
    range (descending for SNR-like dimensions, where lower is worse: clean, >=30, 20-30, ..., <0;
    ascending otherwise: dry, <0.3s, 0.3-0.6s, ...), then the rest sorted."""
    ranges = _ranges(values)
    clean = [v for v in values if v.strip().lower() in CLEAN_WORDS]
    numeric = [v for v in values if v not in clean and v in ranges]
    other = sorted(v for v in values if v not in clean and v not in numeric)
    descending = "snr" in dim.lower() or "bitrate" in dim.lower()
    numeric.sort(key=lambda v: ranges[v], reverse=descending)
    return clean + numeric + other


def _is_severity(values: list[str]) -> bool:
    ranges = _ranges(values)
    return all(v.strip().lower() in CLEAN_WORDS or v in ranges for v in values)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:100] or "x"


def _unique(name: str, taken: set) -> str:
    """``name``, or ``name-2``, ``name-3``... (before the suffix) if taken: file names that ``_safe``
    made alike stay apart."""
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    out, k = name, 2
    while out in taken:
        out = f"{stem}-{k}{dot}{ext}"
        k += 1
    taken.add(out)
    return out


def _short(label: str, n: int = 28) -> str:
    label = label.rsplit("/", 1)[-1]
    return label if len(label) <= n else label[: n - 1] + "…"


def _wrap(label: str, n: int = 28) -> str:
    """The whole label on lines of about ``n`` characters, broken after commas (or every ``n``)."""
    lines, cur = [], ""
    for piece in re.findall(r"[^,]+,?|,", label):
        while len(piece) > n:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(piece[:n])
            piece = piece[n:]
        if cur and len(cur) + len(piece) > n:
            lines.append(cur)
            cur = ""
        cur += piece
    return "\n".join(lines + ([cur] if cur else []))


def tick_labels(labels: list[str], n: int = 28) -> list[str]:
    """Axis labels: shortened (file name, ``n`` characters) when that keeps distinct labels distinct,
    else every label whole, wrapped: two slices never show the same label."""
    short = [_short(lb, n) for lb in labels]
    if len(set(short)) == len(set(labels)):
        return short
    return [_wrap(lb, n) for lb in labels]


def plot_dimension(path: Path, title: str, labels: list[str], stats: list[dict], metric: str = "wer",
                   ordered: bool = True, min_items: int = MIN_ITEMS) -> None:
    """Save :func:`dimension_figure` as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig = dimension_figure(title, labels, stats, metric, ordered, min_items)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def dimension_figure(title: str, labels: list[str], stats: list[dict], metric: str = "wer", ordered: bool = True,
                     min_items: int = MIN_ITEMS):
    """WER with 95% CI error bars per value. Ordered (severity) dimensions: a line from mild to severe;
    categorical ones (noise file, codec name): horizontal dots. Values of fewer than ``min_items`` items:
    faint hollow points without error bars, "(n=k)" in their label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = [100 * s[metric] if s.get(metric) is not None else float("nan") for s in stats]
    ci = [s.get(f"{metric}_ci") for s in stats]
    err = [[max(0.0, v - 100 * c[0]) if c else 0.0 for v, c in zip(y, ci)],
           [max(0.0, 100 * c[1] - v) if c else 0.0 for v, c in zip(y, ci)]]
    few = [_few(int(s.get("n_items", min_items)), min_items) for s in stats]
    ticks = [t + (f" (n={s.get('n_items')})" if f else "") for t, s, f in zip(tick_labels(labels), stats, few)]
    full, faint = [k for k, f in enumerate(few) if not f], [k for k, f in enumerate(few) if f]
    pos = list(range(len(labels)))
    at = (lambda ks, v: [v[k] for k in ks])  # noqa: E731
    if ordered:
        fig, ax = plt.subplots(figsize=(6.0, 3.6 + 0.12 * max(t.count("\n") for t in ticks or [""])), dpi=100)
        ax.plot(pos, y, "-", color="#1f5fa8", alpha=0.35 if faint else 1.0)
        ax.errorbar(at(full, pos), at(full, y), yerr=[at(full, e) for e in err], fmt="o", capsize=4, color="#1f5fa8")
    else:
        lines = sum(max(1.0, 0.7 * (t.count("\n") + 1)) for t in ticks)
        fig, ax = plt.subplots(figsize=(6.0, 1.2 + 0.35 * lines), dpi=100)
        ax.errorbar(at(full, y), at(full, pos), xerr=[at(full, e) for e in err], fmt="o", capsize=4, color="#1f5fa8")
    if faint:
        xy = (at(faint, pos), at(faint, y)) if ordered else (at(faint, y), at(faint, pos))
        ax.plot(*xy, "o", mfc="none", color="#8a939c", label=f"fewer than {min_items} items (no interval)")
        ax.legend(fontsize=8, loc="best")
    if ordered:
        long_ = max(map(len, ticks), default=0) > 6
        ax.set_xticks(pos)
        ax.set_xticklabels(ticks, rotation=30 if long_ else 0, ha="right" if long_ else "center")
        ax.set_ylabel(f"{metric.upper()} (%) with 95% CI")
        ax.set_ylim(bottom=0)
    else:
        ax.set_yticks(pos)
        ax.set_yticklabels(ticks)
        ax.invert_yaxis()
        ax.set_xlabel(f"{metric.upper()} (%) with 95% CI")
        ax.set_xlim(left=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _alignment_html(ops: list) -> str:
    cells = []
    for op, r, h in ops:
        r_s = ESC(r) if r is not None else "&middot;"
        h_s = ESC(h) if h is not None else "&middot;"
        cells.append(f'<span class="w {ESC(op)}"><span class="r">{r_s}</span><span class="h">{h_s}</span></span>')
    return '<div class="align">' + "".join(cells) + "</div>"


def _item_wer(it: dict) -> float:
    w = it["wer"]
    return w["errors"] / w["ref_words"] if w["ref_words"] else float(w["errors"] > 0)


def worst_items(items: list[dict], n: int) -> list[dict]:
    """The items with the most word errors (the largest share of the slice's WER), then highest item WER."""
    return sorted(items, key=lambda it: (-it["wer"]["errors"], -_item_wer(it), it["id"]))[:n]


def _short_value(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------------------------------------- sections

def _header_html(results: dict, set_dir: Path) -> str:
    summ, eng = results["summary"], results.get("engine", {})
    return ("<h1>ASR robustness report</h1>"
            "<p>Set: <code>" + ESC(str(results.get("set", {}).get("path", set_dir))) + "</code><br>Engine: <code>"
            + ESC(str(eng.get("key", ""))) + "</code> (" + ESC(str(eng.get("spec", {}).get("name", ""))) + ")<br>"
            + f"Items: {summ['overall']['n_items']}, reference words: {summ['overall']['ref_words']}, "
            + f"audio: {summ['overall']['duration_s'] / 60:.1f} min<br>"
            + "WER = sum of errors / sum of reference words; intervals are 95% bootstrap intervals over items "
            + f"({results.get('bootstrap', {}).get('n_boot', '?')} resamples). Deltas are paired against the "
            + "reference slice <code>" + ESC(str(summ.get("reference_slice"))) + "</code> (same source "
            + "utterances in both slices).</p>")


def _ratio(r, ci) -> str:
    ci_s = "" if not ci else f" <span class=ci>[{ci[0]:.2f}, {ci[1]:.2f}]</span>"
    return ("–" if r is None else f"{r:.2f}") + ci_s


def real_vs_synthetic_html(results: dict, min_items: int = MIN_ITEMS) -> list[str]:
    """REAL recordings next to the synthetic set: overall, per value of the shared slice keys (WER and
    ratio), and term recall / TER (overall and per value) when terms were scored."""
    c, real, summ = results["real_vs_synthetic"], results["real"], results["summary"]
    parts = ["<h2>Real vs synthetic</h2><table><tr><th class=l>data</th><th>items</th><th>WER [95% CI]</th></tr>"
             f"{_tr(real['n_items'], min_items)}<td class=l><b>REAL</b> recordings (<code>{ESC(real['source'])}"
             f"</code>)</td><td>{_n(real['n_items'], min_items)}</td><td>{_pct(c['real_wer'])}{_ci(c['real_wer_ci'])}"
             f"</td></tr>{_tr(summ['overall']['n_items'], min_items)}<td class=l>SYNTHETIC set</td>"
             f"<td>{_n(summ['overall']['n_items'], min_items)}</td>"
             f"<td>{_pct(c['synthetic_wer'])}{_ci(c['synthetic_wer_ci'])}</td></tr></table>"
             f"<p>real / synthetic WER ratio <b>{_ratio(c['ratio'], c['ratio_ci'])}</b>; same engine and "
             "normalizer on both; intervals from independent bootstrap resamples of items.</p>"]
    rows, counts = [], []
    for key, vals in (c.get("by") or {}).items():
        for value, v in vals.items():
            n = min(v["n_real"], v["n_synthetic"])
            counts.append(n)
            rows.append(f"{_tr(n, min_items)}<td class=l>{ESC(key)}={ESC(value)}</td>"
                        f"<td>{_n(v['n_real'], min_items)}</td><td>{_pct(v['real_wer'])}{_ci(v['real_wer_ci'])}</td>"
                        f"<td>{_n(v['n_synthetic'], min_items)}</td>"
                        f"<td>{_pct(v['synthetic_wer'])}{_ci(v['synthetic_wer_ci'])}</td>"
                        f"<td>{_ratio(v['ratio'], v['ratio_ci'])}</td></tr>")
    if rows:
        parts.append("<h3>Real vs synthetic per slice</h3><table><tr><th class=l>slice</th><th>REAL items</th>"
                     "<th>REAL WER [95% CI]</th><th>synthetic items</th><th>synthetic WER [95% CI]</th>"
                     "<th>ratio [95% CI]</th></tr>" + "".join(rows) + "</table>" + _few_note(counts, min_items))
    rt = (real.get("summary") or {}).get("terms")
    st = (summ or {}).get("terms")
    if rt:
        def trow(name, r, s):
            return (f"<tr><td class=l>{ESC(name)}</td><td>{r['ref']}</td><td>{_pct(r['recall'])}</td>"
                    f"<td>{_pct(r['ter'])}{_ci(r['ter_ci'])}</td><td>{s['ref'] if s else '–'}</td>"
                    f"<td>{_pct(s['recall']) if s else '–'}</td>"
                    f"<td>{(_pct(s['ter']) + _ci(s['ter_ci'])) if s else '–'}</td></tr>")
        body = [trow("all", rt["overall"], (st or {}).get("overall"))]
        for key, vals in (c.get("terms_by") or {}).items():
            body += [trow(f"{key}={value}", v["real"], v["synthetic"]) for value, v in vals.items()]
        parts.append("<h3>Domain terms, real vs synthetic</h3><table><tr><th class=l>slice</th><th>REAL term "
                     "occurrences</th><th>REAL recall</th><th>REAL TER [95% CI]</th><th>synthetic term occurrences"
                     "</th><th>synthetic recall</th><th>synthetic TER [95% CI]</th></tr>" + "".join(body) + "</table>")
    return parts


def _overall_html(ov: dict) -> str:
    return (f"<h2>Overall</h2><p>WER <b>{_pct(ov['wer'])}</b>{_ci(ov['wer_ci'])}, CER {_pct(ov['cer'])}"
            f"{_ci(ov['cer_ci'])}; lost words (packet loss) {ov['lost_words']}, WER excluding lost words "
            f"{_pct(ov['wer_excl_lost'])}</p>")


def _slices_html(summ: dict, min_items: int) -> str:
    """The slice table: WER/CER with intervals, paired delta vs the reference slice, lost words, and
    cpWER/ORC-WER/DER when some slice has them."""
    extra = [k for k in ("cpwer", "orcwer", "der") if any(k in s for s in summ["slices"].values())]
    head = ("<tr><th class=l>slice</th><th class=l>labels</th><th>items</th><th>ref words</th><th>WER [95% CI]</th>"
            "<th>CER [95% CI]</th><th>Δ WER vs ref [95% CI]</th><th>lost words</th><th>WER excl. lost</th>"
            + "".join(f"<th>{k.upper()}</th>" for k in extra) + "</tr>")
    rows = []
    for name, s in summ["slices"].items():
        labels = ", ".join(f"{k}={v}" for k, v in (s.get("labels") or {}).items() if k != "slice")
        rows.append(f"{_tr(s['n_items'], min_items)}<td class=l>{ESC(name)}</td><td class=l>{ESC(labels)}</td>"
                    f"<td>{_n(s['n_items'], min_items)}</td>"
                    f"<td>{s['ref_words']}</td><td>{_pct(s['wer'])}{_ci(s['wer_ci'])}</td>"
                    f"<td>{_pct(s['cer'])}{_ci(s['cer_ci'])}</td><td>{_delta(s.get('paired_vs_ref'))}</td>"
                    f"<td>{s['lost_words']}</td><td>{_pct(s['wer_excl_lost'])}</td>"
                    + "".join(f"<td>{_pct(s.get(k))}{_ci(s.get(k + '_ci'))}</td>" for k in extra) + "</tr>")
    return ("<h2>Slices</h2><table>" + head + "".join(rows) + "</table>"
            + _few_note([s["n_items"] for s in summ["slices"].values()], min_items))


def _terms_html(terms: dict) -> str:
    trs = "".join(f"<tr><td class=l>{ESC(name)}</td><td>{s['ref']}</td><td>{s['recognized']}</td>"
                  f"<td>{s['missed']}</td><td>{s['false']}</td><td>{_pct(s['recall'])}</td>"
                  f"<td>{_pct(s['ter'])}{_ci(s['ter_ci'])}</td><td>{_delta(s.get('paired_vs_ref'))}</td></tr>"
                  for name, s in [("all", terms["overall"])] + list(terms["slices"].items()))
    return (f"<h2>Domain terms</h2><p>{len(terms['terms'])} terms: "
            + ESC(", ".join(terms["terms"][:30])) + f". {ESC(terms['definition'])}.</p><table><tr>"
            "<th class=l>slice</th><th>term occurrences</th><th>recognized</th><th>missed</th>"
            "<th>false insertions</th><th>recall</th><th>TER [95% CI]</th><th>Δ TER vs ref [95% CI]</th>"
            f"</tr>{trs}</table>")


def _plots_and_conditions_html(summ: dict, out: Path, min_items: int) -> list[str]:
    """WER per slice and WER vs each condition dimension (severity bins mild to severe; categorical
    values worst first) as plots, and a table per dimension."""
    imgs, tables, taken = [], [], set()
    slice_names = list(summ["slices"])
    if len(slice_names) > 1:
        plot_dimension(out / "plots" / "slices.png", "WER per slice", slice_names,
                       [summ["slices"][s] for s in slice_names], ordered=False, min_items=min_items)
        imgs.append(("plots/slices.png", "WER per slice"))
        taken.add("slices.png")
    for dim, vals in summ["dimensions"].items():
        order = severity_order(dim, list(vals))
        ordered = _is_severity(order)
        if not ordered:  # categorical: worst first
            order = sorted(order, key=lambda v: -(vals[v]["wer"] or 0.0))
        fname = "plots/" + _unique(f"dim_{_safe(dim)}.png", taken)
        plot_dimension(out / fname, f"WER vs {dim}", order, [vals[v] for v in order], ordered=ordered,
                       min_items=min_items)
        imgs.append((fname, f"WER vs {dim}"))
        trs = "".join(f"{_tr(vals[v]['n_items'], min_items)}<td class=l>{ESC(v)}</td>"
                      f"<td>{_n(vals[v]['n_items'], min_items)}</td><td>{_pct(vals[v]['wer'])}"
                      f"{_ci(vals[v]['wer_ci'])}</td><td>{_pct(vals[v]['cer'])}{_ci(vals[v]['cer_ci'])}</td></tr>"
                      for v in order)
        tables.append(f"<h3>{ESC(dim)}</h3><table><tr><th class=l>value</th><th>items</th><th>WER</th>"
                      f"<th>CER</th></tr>{trs}</table>" + _few_note([vals[v]["n_items"] for v in order], min_items))
    parts = []
    if imgs:
        parts.append('<h2>WER vs severity</h2><div class="plots">' + "".join(
            f'<img src="{ESC(urllib.parse.quote(src))}" alt="{ESC(alt)}">' for src, alt in imgs) + "</div>")
    if tables:
        parts.append("<h2>By condition</h2>" + "".join(tables))
    return parts


def _worst_items_html(results: dict, set_dir: Path, out: Path, worst_n: int, copy_audio: bool) -> list[str]:
    """Per slice, the items with the most word errors: audio player (a copy in ``audio/``), conditions,
    reference and hypothesis, and their alignment."""
    parts = ['<h2>Worst items per slice</h2><p class="legend">Items with the most word errors. '
             'Top row: reference; bottom row: hypothesis. '
             '<span class="w sub">substitution</span><span class="w del">deletion</span>'
             '<span class="w ins">insertion</span> (normalized text)</p>']
    by_slice: dict[str, list[dict]] = {}
    for it in results["items"]:
        by_slice.setdefault(it["slice"], []).append(it)
    (out / "audio").mkdir(exist_ok=True)
    taken: set = set()
    for name in results["summary"]["slices"]:
        parts.append(f"<h3>{ESC(name)}</h3>")
        for it in worst_items(by_slice.get(name, []), worst_n):
            src = set_dir / str(it.get("audio_filepath") or "")
            audio_html = "<p><i>audio not available</i></p>"
            if copy_audio and it.get("audio_filepath") and src.is_file():
                dst_name = _unique(_safe(str(it["id"])) + src.suffix.lower(), taken)
                shutil.copyfile(src, out / "audio" / dst_name)
                audio_html = (f'<audio controls preload="none" src="{ESC(urllib.parse.quote("audio/" + dst_name))}">'
                              "</audio>")
            parts.append(_item_html(it, audio_html))
    return parts


def _item_html(it: dict, audio_html: str) -> str:
    w = it["wer"]
    lost = it["lost"]["lost_words"]
    conds = ", ".join(f"{k}={_short_value(v)}" for k, v in (it.get("conditions") or {}).items()
                      if not isinstance(v, (dict, list)))
    return (f'<div class="item"><b>{ESC(str(it["id"]))}</b> — WER {_pct(_item_wer(it))} '
            f"({w['errors']} errors / {w['ref_words']} words: {w['substitutions']} sub, {w['deletions']} del, "
            f"{w['insertions']} ins{f', {lost} words lost to packet loss' if lost else ''})"
            f"<br><span class=ci>{ESC(conds)}</span>{audio_html}"
            f"<div>REF: {ESC(str(it.get('ref', '')))}</div><div>HYP: {ESC(str(it.get('hyp', '')))}</div>"
            f"{_alignment_html(it.get('alignment') or [])}</div>")


def make_report(results: dict, set_dir: str | Path, out_dir: str | Path, worst_n: int = 5,
                copy_audio: bool = True, min_items: int = MIN_ITEMS) -> Path:
    """Write the report folder; returns the path of index.html. Slices and condition values of fewer
    than ``min_items`` items are shown, marked, and plotted faint."""
    set_dir, out = Path(set_dir), Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    summ = results["summary"]
    parts = [_header_html(results, set_dir)]
    if results.get("real_vs_synthetic"):
        parts += real_vs_synthetic_html(results, min_items)
    parts.append(_overall_html(summ["overall"]))
    parts.append(_slices_html(summ, min_items))
    if summ.get("terms"):
        parts.append(_terms_html(summ["terms"]))
    parts.append(behavior_html(results))  # sets built with a behavior (synth.eval.behavior)
    parts += _plots_and_conditions_html(summ, out, min_items)
    parts += _worst_items_html(results, set_dir, out, worst_n, copy_audio)
    card = set_dir / "card.md"
    card_text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else "(no card.md in the set)"
    parts.append(f'<h2>Dataset card</h2><pre class="card">{ESC(card_text)}</pre>')
    parts.append("<p class=ci>Generated by synth eval. Normalizer: "
                 + ESC(", ".join(f"{k}={v}" for k, v in results.get("normalizer", {}).items())) + "</p>")
    page = Template(asset_text("eval/report.html")).substitute(  # head, synthetic banner, body
        title=ESC(str(results.get("engine", {}).get("key", ""))), css=asset_text("eval/report.css"),
        body="\n".join(parts))
    index = out / "index.html"
    atomic_write_text(index, page)
    return index
