"""Static HTML report of an eval: one folder that opens from disk (no server, no network, no scripts).

``report/index.html`` holds: a banner saying the data is synthetic; the slice table (WER/CER with 95%
bootstrap intervals, paired delta vs the clean reference slice, lost words, cpWER/ORC-WER/DER when
present); WER-vs-severity plots per dimension (``plots/*.png``, matplotlib Agg); per-dimension tables;
the worst items of each slice with an ``<audio>`` player (the audio is copied into ``audio/`` so the
folder is self-contained and can be zipped or moved) and the reference/hypothesis alignment with
substitutions, deletions and insertions highlighted; and the set's dataset card (card.md, shown as text).

Every string that comes from data (ids, transcripts, slice names, card text, paths) goes through
``html.escape``; URLs are percent-encoded first. The page contains no JavaScript.
The page skeleton (head, synthetic banner) and the CSS are shipped files: ``assets/eval/report.html``
(a ``string.Template``) and ``assets/eval/report.css``.
"""

from __future__ import annotations

import html
import re
import shutil
import urllib.parse
from pathlib import Path
from string import Template

from ..audio import atomic_write_text
from ..shipped import asset_text

ESC = html.escape

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


_NUM = r"-?\d+(?:\.\d+)?"


def _num(label: str) -> float | None:
    """A sortable number for a bin label: '10-15' -> 12.5, '<0' -> -0.5, '>=30' -> 30.5, 'snr_5' -> 5."""
    s = label.strip()
    m = re.fullmatch(rf"({_NUM})\s*(?:-|to|\.\.)\s*({_NUM})", s)
    if m:
        return (float(m.group(1)) + float(m.group(2))) / 2
    m = re.fullmatch(rf"(<=?|>=?)\s*({_NUM})", s)
    if m:
        return float(m.group(2)) + (-0.5 if m.group(1).startswith("<") else 0.5)
    m = re.search(_NUM, s)
    return float(m.group()) if m else None


CLEAN_WORDS = {"clean", "none", "off", "no", "reference", "ref", "false", "dry"}


def severity_order(dim: str, values: list[str]) -> list[str]:
    """Order a dimension's values from mild to severe: 'clean'/'none' first, then numeric values
    (descending for SNR-like dimensions, where lower is worse; ascending otherwise), then the rest."""
    clean = [v for v in values if v.strip().lower() in CLEAN_WORDS]
    numeric = [v for v in values if v not in clean and _num(v) is not None]
    other = sorted(v for v in values if v not in clean and v not in numeric)
    descending = "snr" in dim.lower() or "bitrate" in dim.lower()
    numeric.sort(key=lambda v: _num(v), reverse=descending)
    return clean + numeric + other


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:100] or "x"


def _short(label: str, n: int = 28) -> str:
    label = label.rsplit("/", 1)[-1]
    return label if len(label) <= n else label[: n - 1] + "…"


def plot_dimension(path: Path, title: str, labels: list[str], stats: list[dict], metric: str = "wer",
                   ordered: bool = True) -> None:
    """WER with 95% CI error bars per value. Ordered (severity) dimensions: a line from mild to severe;
    categorical ones (noise file, codec name): horizontal dots, labels shortened to the file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = [s.get(metric) if s.get(metric) is not None else float("nan") for s in stats]
    lo = [max(0.0, v - s[f"{metric}_ci"][0]) if s.get(f"{metric}_ci") else 0.0 for v, s in zip(y, stats)]
    hi = [max(0.0, s[f"{metric}_ci"][1] - v) if s.get(f"{metric}_ci") else 0.0 for v, s in zip(y, stats)]
    err = [[100 * v for v in lo], [100 * v for v in hi]]
    pos = list(range(len(labels)))
    if ordered:
        fig, ax = plt.subplots(figsize=(6.0, 3.6), dpi=100)
        ax.errorbar(pos, [100 * v for v in y], yerr=err, fmt="o-", capsize=4, color="#1f5fa8")
        ax.set_xticks(pos)
        ax.set_xticklabels([_short(lb) for lb in labels], rotation=30 if max(map(len, labels), default=0) > 6 else 0,
                           ha="right" if max(map(len, labels), default=0) > 6 else "center")
        ax.set_ylabel(f"{metric.upper()} (%) with 95% CI")
        ax.set_ylim(bottom=0)
    else:
        fig, ax = plt.subplots(figsize=(6.0, 1.2 + 0.35 * len(labels)), dpi=100)
        ax.errorbar([100 * v for v in y], pos, xerr=err, fmt="o", capsize=4, color="#1f5fa8")
        ax.set_yticks(pos)
        ax.set_yticklabels([_short(lb) for lb in labels])
        ax.invert_yaxis()
        ax.set_xlabel(f"{metric.upper()} (%) with 95% CI")
        ax.set_xlim(left=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


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


def real_by_slice_html(results: dict) -> list[str]:
    """Real vs synthetic per value of the shared slice keys (WER and ratio), and term recall / TER of the real
    recordings next to the synthetic set's (overall and per value)."""
    c, real = results["real_vs_synthetic"], results["real"]
    parts = []
    rows = []
    for key, vals in (c.get("by") or {}).items():
        for value, v in vals.items():
            ratio = "–" if v["ratio"] is None else f"{v['ratio']:.2f}"
            rci = "" if not v["ratio_ci"] else f" <span class=ci>[{v['ratio_ci'][0]:.2f}, {v['ratio_ci'][1]:.2f}]</span>"
            rows.append(f"<tr><td class=l>{ESC(key)}={ESC(value)}</td><td>{v['n_real']}</td>"
                        f"<td>{_pct(v['real_wer'])}{_ci(v['real_wer_ci'])}</td><td>{v['n_synthetic']}</td>"
                        f"<td>{_pct(v['synthetic_wer'])}{_ci(v['synthetic_wer_ci'])}</td><td>{ratio}{rci}</td></tr>")
    if rows:
        parts.append("<h3>Real vs synthetic per slice</h3><table><tr><th class=l>slice</th><th>REAL items</th>"
                     "<th>REAL WER [95% CI]</th><th>synthetic items</th><th>synthetic WER [95% CI]</th>"
                     "<th>ratio [95% CI]</th></tr>" + "".join(rows) + "</table>")
    rt = (real.get("summary") or {}).get("terms")
    st = (results.get("summary") or {}).get("terms")
    if rt:
        trow = lambda name, r, s: (f"<tr><td class=l>{ESC(name)}</td><td>{r['ref']}</td><td>{_pct(r['recall'])}</td>"  # noqa: E731
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


def make_report(results: dict, set_dir: str | Path, out_dir: str | Path, worst_n: int = 5,
                copy_audio: bool = True) -> Path:
    """Write the report folder; returns the path of index.html."""
    set_dir, out = Path(set_dir), Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    summ = results["summary"]
    eng = results.get("engine", {})
    parts = ["<h1>ASR robustness report</h1>",
             "<p>Set: <code>" + ESC(str(results.get("set", {}).get("path", set_dir))) + "</code><br>Engine: <code>"
             + ESC(str(eng.get("key", ""))) + "</code> (" + ESC(str(eng.get("spec", {}).get("name", ""))) + ")<br>"
             + f"Items: {summ['overall']['n_items']}, reference words: {summ['overall']['ref_words']}, "
             + f"audio: {summ['overall']['duration_s'] / 60:.1f} min<br>"
             + "WER = sum of errors / sum of reference words; intervals are 95% bootstrap intervals over items "
             + f"({results.get('bootstrap', {}).get('n_boot', '?')} resamples). Deltas are paired against the "
             + "reference slice <code>" + ESC(str(summ.get("reference_slice"))) + "</code> (same source "
             + "utterances in both slices).</p>"]

    if results.get("real_vs_synthetic"):
        c, real = results["real_vs_synthetic"], results["real"]
        ratio = "–" if c["ratio"] is None else f"{c['ratio']:.2f}"
        rci = "" if not c["ratio_ci"] else f" <span class=ci>[{c['ratio_ci'][0]:.2f}, {c['ratio_ci'][1]:.2f}]</span>"
        parts.append("<h2>Real vs synthetic</h2><table><tr><th class=l>data</th><th>items</th><th>WER [95% CI]</th></tr>"
                     f"<tr><td class=l><b>REAL</b> recordings (<code>{ESC(real['source'])}</code>)</td>"
                     f"<td>{real['n_items']}</td><td>{_pct(c['real_wer'])}{_ci(c['real_wer_ci'])}</td></tr>"
                     f"<tr><td class=l>SYNTHETIC set</td><td>{summ['overall']['n_items']}</td>"
                     f"<td>{_pct(c['synthetic_wer'])}{_ci(c['synthetic_wer_ci'])}</td></tr></table>"
                     f"<p>real / synthetic WER ratio <b>{ratio}</b>{rci}; same engine and normalizer on both; "
                     "intervals from independent bootstrap resamples of items.</p>")
        parts += real_by_slice_html(results)

    ov = summ["overall"]
    parts.append(f"<h2>Overall</h2><p>WER <b>{_pct(ov['wer'])}</b>{_ci(ov['wer_ci'])}, CER {_pct(ov['cer'])}"
                 f"{_ci(ov['cer_ci'])}; lost words (packet loss) {ov['lost_words']}, WER excluding lost words "
                 f"{_pct(ov['wer_excl_lost'])}</p>")

    # slice table
    extra = [k for k in ("cpwer", "orcwer", "der") if any(k in s for s in summ["slices"].values())]
    head = ("<tr><th class=l>slice</th><th class=l>labels</th><th>items</th><th>ref words</th><th>WER [95% CI]</th>"
            "<th>CER [95% CI]</th><th>Δ WER vs ref [95% CI]</th><th>lost words</th><th>WER excl. lost</th>"
            + "".join(f"<th>{k.upper()}</th>" for k in extra) + "</tr>")
    rows = []
    for name, s in summ["slices"].items():
        labels = ", ".join(f"{k}={v}" for k, v in (s.get("labels") or {}).items() if k != "slice")
        rows.append(f"<tr><td class=l>{ESC(name)}</td><td class=l>{ESC(labels)}</td><td>{s['n_items']}</td>"
                    f"<td>{s['ref_words']}</td><td>{_pct(s['wer'])}{_ci(s['wer_ci'])}</td>"
                    f"<td>{_pct(s['cer'])}{_ci(s['cer_ci'])}</td><td>{_delta(s.get('paired_vs_ref'))}</td>"
                    f"<td>{s['lost_words']}</td><td>{_pct(s['wer_excl_lost'])}</td>"
                    + "".join(f"<td>{_pct(s.get(k))}{_ci(s.get(k + '_ci'))}</td>" for k in extra) + "</tr>")
    parts.append("<h2>Slices</h2><table>" + head + "".join(rows) + "</table>")
    terms = summ.get("terms")
    if terms:
        trs = "".join(f"<tr><td class=l>{ESC(name)}</td><td>{s['ref']}</td><td>{s['recognized']}</td>"
                      f"<td>{s['missed']}</td><td>{s['false']}</td><td>{_pct(s['recall'])}</td>"
                      f"<td>{_pct(s['ter'])}{_ci(s['ter_ci'])}</td><td>{_delta(s.get('paired_vs_ref'))}</td></tr>"
                      for name, s in [("all", terms["overall"])] + list(terms["slices"].items()))
        parts.append(f"<h2>Domain terms</h2><p>{len(terms['terms'])} terms: "
                     + ESC(", ".join(terms["terms"][:30])) + f". {ESC(terms['definition'])}.</p><table><tr>"
                     "<th class=l>slice</th><th>term occurrences</th><th>recognized</th><th>missed</th>"
                     "<th>false insertions</th><th>recall</th><th>TER [95% CI]</th><th>Δ TER vs ref [95% CI]</th>"
                     f"</tr>{trs}</table>")

    # plots
    imgs = []
    slice_names = list(summ["slices"])
    if len(slice_names) > 1:
        plot_dimension(out / "plots" / "slices.png", "WER per slice", slice_names,
                       [summ["slices"][s] for s in slice_names], ordered=False)
        imgs.append(("plots/slices.png", "WER per slice"))
    dim_tables = []
    for dim, vals in summ["dimensions"].items():
        order = severity_order(dim, list(vals))
        ordered = all(v.strip().lower() in CLEAN_WORDS or _num(v) is not None for v in order)
        if not ordered:  # categorical: worst first
            order = sorted(order, key=lambda v: -(vals[v]["wer"] or 0.0))
        fname = f"plots/dim_{_safe(dim)}.png"
        plot_dimension(out / fname, f"WER vs {dim}", order, [vals[v] for v in order], ordered=ordered)
        imgs.append((fname, f"WER vs {dim}"))
        trs = "".join(f"<tr><td class=l>{ESC(v)}</td><td>{vals[v]['n_items']}</td><td>{_pct(vals[v]['wer'])}"
                      f"{_ci(vals[v]['wer_ci'])}</td><td>{_pct(vals[v]['cer'])}{_ci(vals[v]['cer_ci'])}</td></tr>"
                      for v in order)
        dim_tables.append(f"<h3>{ESC(dim)}</h3><table><tr><th class=l>value</th><th>items</th><th>WER</th>"
                          f"<th>CER</th></tr>{trs}</table>")
    if imgs:
        parts.append('<h2>WER vs severity</h2><div class="plots">' + "".join(
            f'<img src="{ESC(urllib.parse.quote(src))}" alt="{ESC(alt)}">' for src, alt in imgs) + "</div>")
    if dim_tables:
        parts.append("<h2>By condition</h2>" + "".join(dim_tables))

    # worst items
    parts.append('<h2>Worst items per slice</h2><p class="legend">Items with the most word errors. '
                 'Top row: reference; bottom row: hypothesis. '
                 '<span class="w sub">substitution</span><span class="w del">deletion</span>'
                 '<span class="w ins">insertion</span> (normalized text)</p>')
    by_slice: dict[str, list[dict]] = {}
    for it in results["items"]:
        by_slice.setdefault(it["slice"], []).append(it)
    (out / "audio").mkdir(exist_ok=True)
    for name in slice_names:
        parts.append(f"<h3>{ESC(name)}</h3>")
        for it in worst_items(by_slice.get(name, []), worst_n):
            src = set_dir / str(it.get("audio_filepath") or "")
            audio_html = "<p><i>audio not available</i></p>"
            if copy_audio and it.get("audio_filepath") and src.is_file():
                dst_name = _safe(str(it["id"])) + src.suffix.lower()
                shutil.copyfile(src, out / "audio" / dst_name)
                audio_html = (f'<audio controls preload="none" src="{ESC(urllib.parse.quote("audio/" + dst_name))}">'
                              "</audio>")
            w = it["wer"]
            lost = it["lost"]["lost_words"]
            conds = ", ".join(f"{k}={_short_value(v)}" for k, v in (it.get("conditions") or {}).items()
                              if not isinstance(v, (dict, list)))
            parts.append(
                f'<div class="item"><b>{ESC(str(it["id"]))}</b> — WER {_pct(_item_wer(it))} '
                f"({w['errors']} errors / {w['ref_words']} words: {w['substitutions']} sub, {w['deletions']} del, "
                f"{w['insertions']} ins{f', {lost} words lost to packet loss' if lost else ''})"
                f"<br><span class=ci>{ESC(conds)}</span>{audio_html}"
                f"<div>REF: {ESC(str(it.get('ref', '')))}</div><div>HYP: {ESC(str(it.get('hyp', '')))}</div>"
                f"{_alignment_html(it.get('alignment') or [])}</div>")

    card = set_dir / "card.md"
    card_text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else "(no card.md in the set)"
    parts.append(f'<h2>Dataset card</h2><pre class="card">{ESC(card_text)}</pre>')
    parts.append("<p class=ci>Generated by synth eval. Normalizer: "
                 + ESC(", ".join(f"{k}={v}" for k, v in results.get("normalizer", {}).items())) + "</p>")
    page = Template(asset_text("eval/report.html")).substitute(  # head, synthetic banner, body
        title=ESC(str(eng.get("key", ""))), css=asset_text("eval/report.css"), body="\n".join(parts))
    index = out / "index.html"
    atomic_write_text(index, page)
    return index
