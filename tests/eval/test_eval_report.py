"""HTML report: parses, every referenced file exists, data is shown as text (never markup)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

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
    assert main([str(set_dir), "asr=hypotheses", f"asr.hypotheses={hp}", f"out={out}", "n_boot=200"]) == 0
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
