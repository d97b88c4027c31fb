"""Text holding characters that str.splitlines() treats as line ends (U+0085 from cp1252 text, U+2028/U+2029
from word processors) passes through corpus reading, the set's manifest, validate, the readers of
eval/export/compare and render --from as one line each (splitlines read such a line as two broken ones)."""

import json

from synth.audio import text_lines
from synth.rerender import rerender
from synth.validate import validate_set
from synth.writer.manifest import read_manifest

from helpers import CORPUS, build_set, manifest

ODD = ["caf\u00e9\u0085", "one\u2028two", "para\u2029graph"]


def test_text_lines_split_at_line_ends_only(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_bytes("a\u0085b\r\nc\u2028d\n\ne\rf".encode("utf-8"))
    assert list(text_lines(p)) == ["a\u0085b", "c\u2028d", "", "e", "f"]
    p.write_bytes(b"\xef\xbb\xbf" + '{"id": "x"}\n'.encode("utf-8"))  # a byte-order mark, as Notepad saves
    assert list(text_lines(p)) == ['{"id": "x"}']


def test_a_corpus_manifest_saved_with_a_byte_order_mark_is_read(tmp_path):
    rows = [json.loads(l) for l in (CORPUS / "manifest.jsonl").read_text().splitlines() if l.strip()]
    speech = [{**r, "path": str(CORPUS / r["path"])} for r in rows if r["kind"] == "speech"][:3]
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in speech), encoding="utf-8-sig")
    out = build_set(tmp_path / "set", "n_items=3", f"sources.root={tmp_path / 'corpus'}", "room=none", "noise=none")
    assert len(manifest(out)) == 3 and validate_set(out) == []


def test_a_corpus_whose_text_holds_unicode_line_separators_builds_and_reads_back(tmp_path):
    """Transcripts are whitespace-normalized (the separators become spaces); metadata is kept as given,
    so the set's own manifest lines hold U+2028 too."""
    rows = [json.loads(l) for l in (CORPUS / "manifest.jsonl").read_text().splitlines() if l.strip()]
    speech = [r for r in rows if r["kind"] == "speech"][:6]
    for r, odd in zip(speech, ODD * 2):
        r["transcript"] = f"{r['transcript']} {odd} END"
        r["accent"] = "north\u2028ern"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.jsonl").write_text("".join(json.dumps({**r, "path": str(CORPUS / r["path"])}, ensure_ascii=False)
                                                   + "\n" for r in speech), encoding="utf-8")
    out = build_set(tmp_path / "set", "n_items=6", f"sources.root={corpus}", "room=none", "noise=none",
                    "channel=clean", "scenario.utterances=1")
    raw = (out / "manifest.jsonl").read_text(encoding="utf-8")
    assert raw.count("\n") == 6 and "\u2028" in raw            # six lines, separators inside them
    items = manifest(out)
    assert all(it["text"].endswith(" END") and not any(c in it["text"] for c in "\u0085\u2028\u2029") for it in items)
    assert {it["recipe"]["talkers"][0]["speaker_meta"]["accent"] for it in items} == {"north\u2028ern"}
    assert validate_set(out) == []
    assert [it["id"] for it in read_manifest(out)] == [it["id"] for it in items]
    again = rerender(out / "manifest.jsonl", tmp_path / "again")
    assert [it["audio_sha256"] for it in manifest(again)] == [it["audio_sha256"] for it in items]
