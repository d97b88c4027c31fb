"""Manifest rows are type-checked in one place (synth/sources/schema.py) before use: every malformed row is
one line naming ``file:line`` and the field (exit 2), or with on_bad_input=skip a recorded skip; the row's
speaker or file never reaches an item."""

from __future__ import annotations

import json

import pytest

from corpus_kit import (GOOD, NOISE_ROW, assert_one_line_error, assert_skipped, build_skipping, cli, cli_here,
                        write_corpus)
from helpers import CORPUS

NOISE2 = CORPUS / "noise/speech_commands_exercise_bike.wav"
ROW = {"path": str(GOOD), "kind": "speech", "speaker": "bad_spk", "transcript": "AUTHOR OF THE", "duration_s": 3.88}
W = [{"word": "AUTHOR", "start": 0.3, "end": 0.8}, {"word": "OF", "start": 0.8, "end": 1.0}]


def row(**kw) -> str:
    r = {**ROW, **kw}
    return json.dumps({k: v for k, v in r.items() if v is not ...})


# (corpus-manifest line 2, what the message must say)
CORPUS_ROWS = {
    "null_line": ("null", "is null, not a JSON object"),
    "list_line": ("[1, 2]", "is a list, not a JSON object"),
    "number_line": ("42", "is a number (42), not a JSON object"),
    "string_line": ('"speech/a.wav"', "is a string, not a JSON object"),
    "not_json": ('{"path": "a.wav", ', "is not valid JSON"),
    "path_number": (row(path=7), "field 'path' must be a file path"),
    "path_missing": (row(path=...), "field 'path' must be a file path"),
    "path_empty": (row(path=""), "field 'path' must be a file path"),
    "transcript_number": (row(transcript=12345), "field 'transcript' must be the transcript as a string"),
    "transcript_list": (row(transcript=["AUTHOR", "OF"]), "field 'transcript' must be the transcript as a string"),
    "transcript_empty": (row(transcript="  "), "has no transcript"),
    "transcript_missing": (row(transcript=...), "has no transcript"),
    "speaker_list": (row(speaker=["a"]), "field 'speaker' must be a speaker id"),
    "speaker_bool": (row(speaker=True), "field 'speaker' must be a speaker id"),
    "speaker_float": (row(speaker=1.5), "field 'speaker' must be a speaker id"),
    "speaker_missing": (row(speaker=...), "has no speaker id"),
    "duration_string": (row(duration_s="3.88"), "field 'duration_s' must be a finite number"),
    "duration_negative": (row(duration_s=-1), "field 'duration_s' must be a finite number"),
    "duration_nan": (row(duration_s=float("nan")), "field 'duration_s' must be a finite number"),
    "duration_inf": (row(duration_s=float("inf")), "field 'duration_s' must be a finite number"),
    "words_string": (row(words="AUTHOR OF"), "field 'words' must be a list"),
    "words_no_end": (row(words=[{"word": "AUTHOR", "start": 0.3}]), "field 'words' entry 0"),
    "words_number_word": (row(words=[{"word": 7, "start": 0.3, "end": 0.8}]), "field 'words' entry 0"),
    "words_string_time": (row(words=[{"word": "A", "start": "0.3", "end": 0.8}]), "field 'words' entry 0"),
    "words_reversed": (row(words=[{"word": "AUTHOR", "start": 0.8, "end": 0.3}]), "need 0 <= start <= end"),
    "words_negative": (row(words=[{"word": "AUTHOR", "start": -0.2, "end": 0.3}]), "need 0 <= start <= end"),
    "words_out_of_order": (row(words=W[::-1]), "in time order"),
    "kind_typo": (row(kind="speach"), "field 'kind' is 'speach'"),
    "kind_music": (row(kind="music"), "field 'kind' is 'music'"),
    "kind_null": (row(kind=None), "field 'kind' is None"),
    "offset": (row(offset=1.5), "field 'offset' is 1.5"),
    "noise_path_null": (json.dumps({"path": None, "kind": "noise"}), "field 'path' must be a file path"),
    "noise_duration_text": (json.dumps({"path": str(NOISE2), "kind": "noise", "duration_s": "long"}),
                            "field 'duration_s' must be a finite number"),
}


def _corpus(tmp_path, line: str):
    root = write_corpus(tmp_path / "c", [line]).resolve()
    return root, f"{root / 'manifest.jsonl'}:2"


@pytest.mark.parametrize("name", CORPUS_ROWS)
def test_bad_corpus_row_is_one_line_naming_file_line_and_field(tmp_path, name):
    line, needle = CORPUS_ROWS[name]
    root, where = _corpus(tmp_path, line)
    r = (cli if name in ("null_line", "transcript_number") else cli_here)(
        "build", f"out_dir={tmp_path / 'set'}", f"sources.root={root}", "n_items=2", "room=none")
    assert_one_line_error(r, f"bad input {where}: ", needle)


@pytest.mark.parametrize("name", CORPUS_ROWS)
def test_bad_corpus_row_is_a_recorded_skip(tmp_path, name):
    line, needle = CORPUS_ROWS[name]
    root, where = _corpus(tmp_path, line)
    card, items = build_skipping(tmp_path / "set", root)
    assert_skipped(card, items, where, needle)
    used = json.dumps(items)
    assert "bad_spk" not in used and NOISE2.name not in used


# NeMo speech manifests (sources.speech=<file>.jsonl) and noise manifests (sources.noise=<file>.jsonl)
NEMO_GOOD = {"audio_filepath": str(GOOD), "text": "AUTHOR OF THE", "speaker": "nemo_spk", "duration": 3.88}
OTHER_ROWS = {
    "nemo_null": ("speech", "null", "is null, not a JSON object"),
    "nemo_path_number": ("speech", json.dumps({**NEMO_GOOD, "audio_filepath": 3, "speaker": "bad_spk"}),
                         "field 'audio_filepath' must be a file path"),
    "nemo_text_number": ("speech", json.dumps({**NEMO_GOOD, "text": 42, "speaker": "bad_spk"}),
                         "field 'text' must be the transcript as a string"),
    "nemo_duration_bool": ("speech", json.dumps({**NEMO_GOOD, "duration": True, "speaker": "bad_spk"}),
                           "field 'duration' must be a finite number"),
    "noise_list_line": ("noise", '["a.wav"]', "is a list, not a JSON object"),
    "noise_no_path": ("noise", json.dumps({"duration": 3.0}), "field 'audio_filepath' must be a file path"),
}


@pytest.mark.parametrize("name", OTHER_ROWS)
@pytest.mark.parametrize("mode", ["error", "skip"])
def test_bad_row_in_nemo_or_noise_manifest(tmp_path, name, mode):
    kind, line, needle = OTHER_ROWS[name]
    root = write_corpus(tmp_path / "c", [])
    m = (tmp_path / f"{kind}.jsonl").resolve()
    good = NEMO_GOOD if kind == "speech" else {"audio_filepath": NOISE_ROW["path"], "duration": 61.156}
    m.write_text(json.dumps(good) + "\n" + line + "\n")
    args = [f"sources.{kind}={m}", "n_items=2", "room=none"]
    if mode == "error":
        r = cli_here("build", f"out_dir={tmp_path / 'set'}", f"sources.root={root}", *args)
        assert_one_line_error(r, f"bad input {m}:2: ", needle)
    else:
        card, items = build_skipping(tmp_path / "set", root, *args)
        assert_skipped(card, items, f"{m}:2", needle)
        assert "bad_spk" not in json.dumps(items)
        if kind == "speech":
            assert {s["source_speaker"] for it in items for s in it["segments"]} == {"nemo_spk"}
