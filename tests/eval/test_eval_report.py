"""HTML report: parses, every referenced file exists, data is shown as text (never markup)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import unquote

import numpy as np

from evalsets import corrupt, ladder_items, write_hyps, write_set
from synth.eval.cli import main


class Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.srcs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag in ("img", "audio", "source", "script", "link") and (a.get("src") or a.get("href")):
            self.srcs.append(a.get("src") or a.get("href"))

    def handle_data(self, data):
        self.text.append(data)


EVIL = '<script>alert("x")</script> & <b>bold</b>'


def test_report_parses_references_existing_files_and_escapes(tmp_path):
    items = ladder_items()
    items[0]["text"] = "the cat sat " + EVIL
    items[4]["slice"] = {"slice": "snr_10", "snr_bin": "10-15 <img src=x onerror=alert(1)>"}
    set_dir = write_set(tmp_path / "set", items, card="# Card\n<script>alert('card')</script>\nSYNTHETIC\n")
    hyps = {it["id"]: corrupt(it["text"], k % 4) for k, it in enumerate(items)}
    hyps[items[1]["id"]] = EVIL
    hp = write_hyps(tmp_path / "h.jsonl", hyps)
    out = tmp_path / "out"
    assert main([str(set_dir), "asr=hypotheses", f"asr.hypotheses={hp}", "--out", str(out), "n_boot=200"]) == 0
    index = out / "report" / "index.html"
    page = index.read_text()
    p = Collect()
    p.feed(page)
    p.close()
    assert "script" not in p.tags and p.tags.count("img") >= 2 and "audio" in p.tags
    text = "".join(p.text)
    assert EVIL in text  # shown literally, as text
    assert "<script>alert('card')</script>" in text
    assert "SYNTHETIC DATA" in text
    assert "onerror" not in "".join(f"{t}" for t in p.tags) and "<img src=x" not in page
    assert p.srcs, "no images or audio referenced"
    for src in p.srcs:
        assert not src.startswith(("http:", "https:", "/")), src
        assert (index.parent / unquote(src)).is_file(), src
    assert all((index.parent / unquote(s)).stat().st_size > 0 for s in p.srcs if s.endswith(".png"))
    # worst item of snr_0 is listed with its reference and hypothesis
    assert "snr_0-003" in text


# ---------------------------------------------------------------- few-item slices, bin order, names kept apart

def _page(tmp_path, items, hyps) -> tuple[str, Collect]:
    set_dir = write_set(tmp_path / "set", items)
    hp = write_hyps(tmp_path / "h.jsonl", hyps)
    out = tmp_path / "out"
    assert main([str(set_dir), "asr=hypotheses", f"asr.hypotheses={hp}", "--out", str(out), "n_boot=200"]) == 0
    page = (out / "report" / "index.html").read_text()
    p = Collect()
    p.feed(page)
    p.close()
    return page, p


def _row(page: str, first_cell: str) -> str:
    """The <tr ...> opening tag of the first table row whose first cell is ``first_cell``."""
    k = page.index(f"<td class=l>{first_cell}</td>")
    return page[page.rindex("<tr", 0, k):k]


def test_a_one_item_slice_is_marked_and_plotted_faint(tmp_path):
    from synth.eval.report import MIN_ITEMS, dimension_figure

    items = ladder_items()
    items.append({"id": "lonely-000", "text": "please call stella", "slice": {"slice": "lonely", "snr_bin": "<0"},
                  "conditions": {"snr_db": -7.0, "codec": "none"}, "source_id": "src-99"})
    hyps = {it["id"]: corrupt(it["text"], k % 2) for k, it in enumerate(items)}
    hyps["lonely-000"] = "x x x"  # 100% WER on one item: its interval is [100, 100]
    page, _ = _page(tmp_path, items, hyps)
    assert 'class="few"' in _row(page, "lonely")
    assert all('class="few"' not in _row(page, s) for s in ("clean", "snr_10", "snr_0"))
    assert f"fewer than {MIN_ITEMS} items" in page

    # in the plot: the 6-item slices with error bars, the 1-item one as a hollow point without any
    stats = [{"n_items": 6, "wer": 0.1, "wer_ci": [0.05, 0.2]}, {"n_items": 6, "wer": 0.3, "wer_ci": [0.2, 0.4]},
             {"n_items": 1, "wer": 1.0, "wer_ci": [1.0, 1.0]}]
    for ordered in (True, False):
        fig = dimension_figure("t", ["a", "b", "c"], stats, ordered=ordered)
        ax = fig.axes[0]
        bars = ax.containers[0]  # the errorbar container
        data = bars.lines[0].get_xydata()
        assert len(data) == 2 and 100.0 not in data  # no full-weight point at 100% WER
        faint = [ln for ln in ax.get_lines() if ln.get_label().startswith("fewer than")]
        assert len(faint) == 1 and faint[0].get_markerfacecolor() == "none"
        assert 100.0 in faint[0].get_xydata()
        assert [t.get_text() for t in (ax.get_xticklabels() if ordered else ax.get_yticklabels())][-1] == "c (n=1)"


def test_severity_bins_are_ordered_mild_to_severe():
    from synth.eval.report import _is_severity, severity_order
    from synth.writer.slices import dimensions

    rt60 = ["dry", "<0.3s", "0.3-0.6s", "0.6-0.9s", ">=0.9s"]
    assert severity_order("slice.rt60_bin", [rt60[i] for i in (0, 2, 1, 4, 3)]) == rt60  # was dry, 0.3-0.6s, <0.3s
    # every binned slice dimension of the registry, its labels shuffled: mild to severe (SNR: high to low)
    checked = 0
    for d in dimensions():
        if not d.slice or d.edges is None:
            continue
        labels = d.labels()[::-1] if "snr" in d.slice else d.labels()
        labels = ([d.absent] if isinstance(d.absent, str) else []) + labels
        shuffled = [labels[i] for i in np.random.default_rng(0).permutation(len(labels))]
        assert severity_order(f"slice.{d.slice}", shuffled) == labels, d.slice
        checked += 1
    assert checked >= 4
    assert severity_order("x", ["0.3-0.6 s", "<0.3 s", "10 dB", "none"]) == ["none", "<0.3 s", "0.3-0.6 s", "10 dB"]
    assert severity_order("slice.snr", ["snr_0", "snr_20", "clean", "snr_-5"]) == ["clean", "snr_20", "snr_0", "snr_-5"]
    # names that merely contain digits are categories, not a severity axis
    assert not _is_severity(["g711_ulaw", "g722", "amr_nb_12k2"])


def test_slice_names_are_never_cut_to_look_alike(tmp_path, monkeypatch):
    import io

    import rich.console

    from synth.eval import cli
    from synth.eval.report import tick_labels

    a = "clipped=False,rt60_bin=0.3-0.6s,snr_bin=0-5,codec=amr_nb"
    b = "clipped=False,rt60_bin=0.3-0.6s,snr_bin=0-5,codec=gsm_fr"
    ticks = tick_labels([a, b, "clean"])
    assert len(set(ticks)) == 3 and [t.replace("\n", "") for t in ticks[:2]] == [a, b]
    assert tick_labels(["noise/a/fan.wav", "noise/b/fan.wav"]) != ["fan.wav", "fan.wav"]
    assert tick_labels(["noise/a/fan.wav", "noise/b/car.wav"]) == ["fan.wav", "car.wav"]

    # the terminal table folds a long slice name instead of cutting it with an ellipsis
    s = {"n_items": 6, "ref_words": 30, "wer": 0.5, "wer_ci": [0.1, 0.9], "lost_words": 0}
    buf, console = io.StringIO(), rich.console.Console
    monkeypatch.setattr(rich.console, "Console", lambda **kw: console(file=buf, **kw))
    cli._print_table({"engine": {"key": "x"}, "summary": {"overall": s, "slices": {a: s, b: s}}})
    text = buf.getvalue()
    assert "…" not in text and "amr_nb" in text and "gsm_fr" in text

    # names that differ only in characters a file name cannot hold get their own plot and audio copy
    items = ladder_items(n_src=2)
    items[2]["id"], items[4]["id"] = "item 1", "item_1"
    for it in items:
        it["conditions"] = {"noise file": it["id"][:5], "noise_file": it["id"][-1]}
    page, p = _page(tmp_path, items, {it["id"]: corrupt(it["text"], 1) for it in items})
    imgs = [s for s in p.srcs if s.endswith(".png")]
    audio = [s for s in p.srcs if not s.endswith(".png")]
    assert len(imgs) == len(set(imgs)) >= 3 and len(audio) == len(set(audio)) == len(items)
