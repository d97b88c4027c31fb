"""``synth align``: a new manifest with checked word alignments, problems listed, resumable, worker-count
independent, and bad input answered in one line naming file:line."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.align.cli import outputs, run
from synth.align.text import HESITATIONS, tokens
from synth.cli import main as synth_main
from synth.errors import BadInput, ConfigError

from helpers import CORPUS, REPO

SPEECH = [
    ("speech/cmu_arctic_aew/arctic_a0001.wav", "Author of the danger trail, Philip Steels, etc."),
    ("speech/cmu_arctic_aew/arctic_a0002.wav", "NOT AT THIS PARTICULAR CASE TOM APOLOGIZED WHITTEMORE"),
    ("speech/cmu_arctic_axb/arctic_a0005.wav", "WILL WE EVER FORGET IT"),
    ("speech/cmusphinx_cards/005.wav", "EIGHT OF SPADES FOUR OF CLUBS SEVEN OF HEARTS"),
    ("speech/cmusphinx_goforward/goforward.wav", "GO FORWARD TEN METERS"),
    ("speech/librivox_sense_sensibility_reader/sense_and_sensibility_01_austen_64kb-0880.wav",
     "HE WAS NOT AN ILL DISPOSED YOUNG MAN"),
    ("speech/ljspeech_lj/LJ002-0020.wav", "IN EIGHTEEN THIRTEEN"),
    ("speech/alsa_speaker_test/Front_Left.wav", "FRONT LEFT"),
    ("speech/cmusphinx_cards/001.wav", "TEN OF CLUBS"),
]


def nemo(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def speech_rows(extra: dict | None = None) -> list[dict]:
    return [{"audio_filepath": str(CORPUS / p), "text": t, "speaker": f"s{i}", "lang": "en", **(extra or {})}
            for i, (p, t) in enumerate(SPEECH)]


def test_new_manifest_keeps_fields_adds_words_and_paths_work_from_where_it_is(tmp_path):
    rel_dir = tmp_path / "corpus"
    rel_dir.mkdir()
    audio = rel_dir / "a.wav"
    x, sr = sf.read(CORPUS / SPEECH[0][0], dtype="float32")
    sf.write(audio, x, sr)
    src = nemo(rel_dir / "in.jsonl", [{"audio_filepath": "a.wav", "text": SPEECH[0][1], "speaker": "x", "note": [1]},
                                      {"audio_filepath": str(CORPUS / SPEECH[2][0]), "text": SPEECH[2][1], "speaker": "y"}])
    before = src.read_bytes()
    s = run(str(src), str(rel_dir / "aligned.jsonl"))
    assert src.read_bytes() == before  # the user's file is never written
    rows = [json.loads(l) for l in (rel_dir / "aligned.jsonl").read_text().splitlines()]
    assert s["aligned"] == 2 and rows[0]["note"] == [1] and rows[0]["speaker"] == "x"
    assert rows[0]["audio_filepath"] == "a.wav"  # under the manifest's folder: relative
    assert rows[1]["audio_filepath"] == str(CORPUS / SPEECH[2][0])  # elsewhere: absolute
    assert [w["word"] for w in rows[0]["words"]] == ["Author", "of", "the", "danger", "trail", "Philip", "Steels", "etc"]
    assert rows[0]["duration"] == pytest.approx(len(x) / sr, abs=1e-3)
    # the new manifest reads as a synth speech source, words and all
    from synth.sources.speech import from_nemo_manifest
    got = from_nemo_manifest(rel_dir / "aligned.jsonl", lambda e: (_ for _ in ()).throw(e))
    assert got[0]["words"] == rows[0]["words"] and Path(got[0]["path"]) == audio
    with pytest.raises(ConfigError, match="never writes the user's file"):
        run(str(src), str(src))


def test_corpus_folder_rows_become_nemo_rows(tmp_path):
    s = run(str(CORPUS), str(tmp_path / "corpus.jsonl"))
    rows = [json.loads(l) for l in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert len(rows) == s["utterances"] and s["aligned"] >= s["utterances"] - 1
    assert list(rows[0])[:3] == ["audio_filepath", "duration", "text"] and "path" not in rows[0]
    assert rows[0]["transcript_raw"] and Path(rows[0]["audio_filepath"]).is_file()


def test_quality_check_lists_a_wrong_transcript_and_writes_its_row_without_words(tmp_path):
    rows = speech_rows()[:4]
    rows[1]["text"] = "the quick brown fox jumps over the lazy dog"
    rows[2]["words"] = [{"word": "stale", "start": 0.0, "end": 0.1}]  # an old alignment is not kept when rejected
    rows[2]["text"] = "WILL WE EVER FORGET IT YESTERDAY TOMORROW"
    rows[3]["text"] = "EIGHT OF SPADES FOUR OF CLUBS"  # the last three words missing: aligns, but implausibly
    src = nemo(tmp_path / "in.jsonl", rows)
    s = run(str(src), str(tmp_path / "out.jsonl"))
    out = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    probs = [json.loads(l) for l in (tmp_path / "out.align_problems.jsonl").read_text().splitlines()]
    assert "words" in out[0] and not any("words" in r for r in out[1:])
    assert [p["line"] for p in probs] == [f"{src}:2", f"{src}:3", f"{src}:4"]
    assert probs[2]["kind"] == "implausible" and "speech_in_pause" in probs[2]["detail"]
    assert s["aligned"] == 1 and sum(s["problems"].values()) == 3


def test_oov_words_are_listed_by_name_and_a_dict_adds_them(tmp_path):
    rows = [{"audio_filepath": str(CORPUS / SPEECH[4][0]), "text": "GO FORWARD TEN METERZ", "speaker": "a"}]
    src = nemo(tmp_path / "in.jsonl", rows)
    run(str(src), str(tmp_path / "a.jsonl"))
    (p,) = [json.loads(l) for l in (tmp_path / "a.align_problems.jsonl").read_text().splitlines()]
    assert p["kind"] == "oov" and p["oov"] == ["METERZ"]
    (tmp_path / "extra.dict").write_text("meterz M IY T ER Z\n")
    s = run(str(src), str(tmp_path / "b.jsonl"), dict_file=str(tmp_path / "extra.dict"))
    assert s["aligned"] == 1


def _bytes(out: Path) -> tuple[bytes, bytes]:
    return out.read_bytes(), outputs(out)[1].read_bytes()


def test_worker_count_does_not_change_the_output(tmp_path):
    src = nemo(tmp_path / "in.jsonl", speech_rows())
    run(str(src), str(tmp_path / "one.jsonl"), workers=1)
    run(str(src), str(tmp_path / "two.jsonl"), workers=2)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert not outputs(tmp_path / "one.jsonl")[0].exists()  # the journal is gone once the manifest is written


def test_a_killed_run_resumes_to_identical_output(tmp_path):
    src = nemo(tmp_path / "in.jsonl", speech_rows())
    ref = tmp_path / "ref.jsonl"
    run(str(src), str(ref), workers=2)
    out = tmp_path / "out.jsonl"
    journal = outputs(out)[0]
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", "align", str(src), "--out", str(out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 2:  # header + one chunk finished
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "the run finished before it could be killed; the test needs more utterances"
    finished = len(journal.read_text().splitlines()) - 1
    assert 0 < finished < len(SPEECH)
    with open(journal, "a") as f:
        f.write('{"i": 8, "words": [{"wo')  # a line cut short by the kill
    s = run(str(src), str(out), workers=1)
    assert _bytes(out) == _bytes(ref) and s["aligned"] == len(SPEECH)
    assert not journal.exists()


def test_a_journal_of_other_options_is_refused(tmp_path):
    src = nemo(tmp_path / "in.jsonl", speech_rows()[:1])
    out = tmp_path / "out.jsonl"
    outputs(out)[0].write_text(json.dumps({"journal": 1, "fingerprint": "something else"}) + "\n")
    with pytest.raises(ConfigError, match="another input or other options"):
        run(str(src), str(out))


@pytest.mark.parametrize("line,match", [
    ("not json", "in.jsonl:2: is not valid JSON"),
    (json.dumps({"audio_filepath": "/nope/missing.wav", "text": "hi"}), "in.jsonl:2: names /nope/missing.wav, which does not exist"),
    (json.dumps({"audio_filepath": str(CORPUS / SPEECH[0][0]), "txt": "hi"}), "in.jsonl:2: has no transcript in 'text'"),
    (json.dumps({"audio_filepath": 5, "text": "hi"}), "in.jsonl:2: field 'audio_filepath' must be"),
])
def test_bad_manifest_lines_are_one_line_errors_naming_file_and_line(tmp_path, line, match, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(speech_rows()[0]) + "\n" + line + "\n")
    assert synth_main(["align", str(src), "--out", str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err
    assert not (tmp_path / "out.jsonl").exists()


def test_unreadable_audio_stops_with_its_line_or_is_listed_with_skip(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)
    rows = speech_rows()[:1] + [{"audio_filepath": str(bad), "text": "hello", "speaker": "b"}]
    src = nemo(tmp_path / "in.jsonl", rows)
    with pytest.raises(BadInput, match=r"in.jsonl:2 .*bad.wav.*cannot be read as audio"):
        run(str(src), str(tmp_path / "out.jsonl"))
    s = run(str(src), str(tmp_path / "out.jsonl"), on_bad_input="skip")
    out = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert s["problems"] == {"bad_audio": 1} and "words" in out[0] and "words" not in out[1]


def test_align_is_a_registered_command(capsys):
    assert synth_main(["--help"]) == 0
    assert "align" in capsys.readouterr().out


# -- the filler bank ------------------------------------------------------------------------------------

def _telephone_rows_with_fillers(n: int) -> list[dict]:
    rows = [json.loads(l) for l in (CORPUS / "telephone/manifest.jsonl").read_text().splitlines()]
    pick = [r for r in rows if any(w in r["text_verbatim"].split() for w in ("uh", "um", "ah"))
            and "onword" not in r["text_verbatim"].lower()]
    return pick[:n]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bank")
    rows = _telephone_rows_with_fillers(14)
    for r in rows:
        r["audio_filepath"] = str(CORPUS / "telephone" / r["audio_filepath"])
    src = nemo(tmp / "calls.jsonl", rows)
    s = run(str(src), str(tmp / "aligned.jsonl"), text_key="text_verbatim", workers=2, fillers=str(tmp / "fillers"))
    return tmp / "fillers", s, rows


def test_fillers_are_harvested_from_the_telephone_calls(bank):
    folder, s, rows = bank
    kept = [json.loads(l) for l in (folder / "manifest.jsonl").read_text().splitlines()]
    rejected = [json.loads(l) for l in (folder / "rejected.jsonl").read_text().splitlines()]
    assert len(kept) >= 5 and s["fillers"]["kept"] == len(kept)
    assert {r["word"] for r in kept} <= {"uh", "um", "ah", "er", "eh", "hm", "hmm", "mm", "uhm", "erm"}
    total = sum(t.spoken in HESITATIONS for r in rows for t in tokens(r["text_verbatim"]))
    assert len(kept) + len(rejected) == total  # every filler of the transcripts is either kept or rejected
    assert all(r["reason"] for r in rejected)
    for r in kept:
        assert r["speaker"] and r["sample_rate"] == 8000 and np.isfinite(r["level_dbov"]) and r["duration"] >= 0.1


def test_each_filler_file_is_the_source_samples_at_the_stated_offset(bank):
    folder, _, _ = bank
    kept = [json.loads(l) for l in (folder / "manifest.jsonl").read_text().splitlines()]
    for r in kept:
        y, sr = sf.read(folder / r["audio_filepath"], dtype="float32")
        x, xsr = sf.read(r["source"], dtype="float32")
        assert sr == xsr == r["sample_rate"]
        a = int(round(r["start"] * sr))
        src = x[a: a + len(y)]
        assert len(y) == int(round(r["end"] * sr)) - a and len(y) == len(src)
        f = int(round(r["fade_s"] * sr))
        np.testing.assert_allclose(y[f:-f], src[f:-f], atol=1.5 / 32768)  # exact but for 16-bit rounding
        assert np.all(np.abs(y[:f]) <= np.abs(src[:f]) + 1.5 / 32768)  # the fades only attenuate
        # energy check: the cut is the loud part of the filler, not a pause
        assert 10 * np.log10(np.mean(y ** 2) + 1e-12) > -60


def test_bank_inside_the_input_or_the_repository_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="inside the input corpus"):
        run(str(CORPUS / "telephone"), str(tmp_path / "a.jsonl"), fillers=str(CORPUS / "telephone" / "bank"))
    with pytest.raises(ConfigError, match="inside the synth repository"):
        run(str(CORPUS / "telephone"), str(tmp_path / "a.jsonl"), fillers=str(REPO / "bank"))


def test_journal_records_are_found_in_any_order(tmp_path):
    from synth.align.cli import _records
    j = tmp_path / "j.jsonl"
    recs = [{"i": i, "words": None, "duration": float(i), "problem": None} for i in (0, 2, 1, 3)]
    j.write_text(json.dumps({"journal": 1}) + "\n" + "".join(json.dumps(r) + "\n" for r in recs))
    gen = _records(j)
    next(gen)
    assert [gen.send(i)["duration"] for i in range(4)] == [0.0, 1.0, 2.0, 3.0]


def test_librispeech_tree_input(tmp_path):
    src = CORPUS / "speech/librispeech_2412/2412-153948-0000.flac"
    chapter = tmp_path / "ls" / "2412" / "153948"
    chapter.mkdir(parents=True)
    (chapter / src.name).symlink_to(src)
    text = next(l.split("\t")[2] for l in (CORPUS / "speech/transcripts.tsv").read_text().splitlines()
                if "2412-153948-0000" in l)
    (chapter / "2412-153948.trans.txt").write_text(f"2412-153948-0000 {text}\n")
    s = run(str(tmp_path / "ls"), str(tmp_path / "ls.jsonl"))
    (row,) = [json.loads(l) for l in (tmp_path / "ls.jsonl").read_text().splitlines()]
    assert row["speaker"] == "librispeech_2412" and row["duration"] > 10
    assert s["aligned"] == 1 and row["words"][0]["word"] == "IF"
