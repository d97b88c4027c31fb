"""Text holding characters that str.splitlines() treats as line ends (U+0085 from cp1252 text, U+2028/U+2029
from word processors) passes through corpus reading, the set's manifest, validate, the readers of
eval/export/compare and render --from as one line each (splitlines read such a line as two broken ones)."""

import json

from synth.audio import text_lines
from synth.rerender import rerender
from synth.validate import validate_set
from synth.writer.manifest import read_manifest

from corpus_kit import assert_one_line_error, cli
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


def test_a_manifest_saved_as_latin_1_is_one_line_naming_file_line_and_the_fix(tmp_path):
    """A whole file in another encoding cannot be read past its first bad byte, so it stops the build (also
    with on_bad_input=skip: there is no row to skip), through the CLI as a user runs it: exit 2, one line."""
    rows = [json.loads(l) for l in (CORPUS / "manifest.jsonl").read_text().splitlines() if l.strip()]
    speech = [{**r, "path": str(CORPUS / r["path"])} for r in rows if r["kind"] == "speech"][:4]
    speech[2]["transcript"] = "CAF\u00c9 AU LAIT"  # É is one byte (0xC9) in Latin-1, invalid as UTF-8
    text = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in speech)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.jsonl").write_bytes(text.encode("latin-1"))
    nemo = tmp_path / "train.jsonl"  # a NeMo speech manifest in cp1252, its first line ended by a lone \r
    lines = [json.dumps({"audio_filepath": r["path"], "text": r["transcript"], "duration": r["duration_s"],
                         "speaker": r["speaker"]}, ensure_ascii=False) for r in speech[1:]]
    nemo.write_bytes((lines[0] + "\r" + "\n".join(lines) + "\n").encode("cp1252"))
    for source, where in ((f"sources.root={corpus}", f"{corpus / 'manifest.jsonl'}:3"),
                          (f"sources.speech={nemo}", f"{nemo}:3")):
        for mode in ("error", "skip"):
            r = cli("build", "n_items=1", "noise=none", "room=none", source, f"on_bad_input={mode}",
                    f"out_dir={tmp_path / 'set'}")
            assert_one_line_error(r, f"bad input {where}: is not UTF-8 text (byte 0xc9", "re-save the file as UTF-8")
