"""``synth validate`` on broken and tampered sets: each defect gives exactly its one problem line and
exit 1 (never a traceback), a clean set exit 0, and the fix each line names does repair the set."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from synth.rerender import rerender
from synth.validate import main, validate_set

from helpers import build_set, manifest

COMMON = ("n_items=3", "room=none", "workers=1")


@pytest.fixture(scope="module")
def clean_set(tmp_path_factory) -> Path:
    return build_set(tmp_path_factory.mktemp("validate") / "set", *COMMON)


@pytest.fixture
def copy(clean_set, tmp_path) -> Path:
    d = tmp_path / "set"
    shutil.copytree(clean_set, d)
    return d


def validate(d: Path, capsys) -> tuple[int, list[str], str]:
    """Exit code, the problem/warning lines, the summary line."""
    code = main([str(d)])
    lines = capsys.readouterr().out.splitlines()
    return code, lines[:-1], lines[-1]


def rewrite_manifest(d: Path, edit) -> None:
    items = manifest(d)
    edit(items)
    (d / "manifest.jsonl").write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items))


def audio_of(d: Path, n: int) -> Path:
    return d / manifest(d)[n - 1]["audio_filepath"]


def test_clean_set_passes_and_every_line_carries_the_documented_labels_hash(clean_set, capsys):
    assert validate(clean_set, capsys) == (0, [], "OK: 3 items checked, 0 problems")
    for it in manifest(clean_set):  # the recipe the README documents, computed here independently
        canonical = json.dumps({"text": it["text"], "segments": it["segments"]}, sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False)
        assert it["labels_sha256"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _one_decode_problem(d: Path, n: int, lines: list[str]) -> str:
    assert len(lines) == 1, lines
    m = re.fullmatch(rf"{re.escape(str(d / 'manifest.jsonl'))}:{n}: audio {re.escape(str(audio_of(d, n)))} "
                     r"does not decode \((.+)\); rerun the build to re-render it", lines[0])
    assert m, lines[0]
    return m.group(1)


def test_zero_byte_audio_is_one_line_and_a_rerun_repairs_it(copy, capsys):
    audio_of(copy, 1).write_bytes(b"")
    code, lines, summary = validate(copy, capsys)
    assert code == 1 and summary == "FAILED: 3 items checked, 1 problems"
    assert "not recognised" in _one_decode_problem(copy, 1, lines).lower()
    build_set(copy, *COMMON)
    assert validate_set(copy) == []


def test_truncated_flac_is_one_line(copy, capsys):
    path = audio_of(copy, 2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    code, lines, _ = validate(copy, capsys)
    assert code == 1
    _one_decode_problem(copy, 2, lines)


def _labels_line(d: Path, n: int) -> str:
    return (f"{d / 'manifest.jsonl'}:{n}: text/segments differ from labels_sha256 (edited after the build); "
            f"re-render the labels with `synth render {d} --out <new folder>`")


def test_edited_text_is_reported_and_re_rendering_restores_true_labels(copy, tmp_path, capsys):
    original = manifest(copy)[1]["text"]

    def edit(items):
        items[1]["text"] = "completely different words " + items[1]["text"]
    rewrite_manifest(copy, edit)
    assert validate(copy, capsys) == (1, [_labels_line(copy, 2)], "FAILED: 3 items checked, 1 problems")
    fixed = rerender(copy / "manifest.jsonl", tmp_path / "fixed")
    assert manifest(fixed)[1]["text"] == original and validate_set(fixed) == []


def test_edited_segment_time_is_reported(copy, capsys):
    def edit(items):
        seg = items[0]["segments"][0]
        seg["end"] = round(seg["end"] - 0.25, 4)  # still inside the audio: only the hash can tell
    rewrite_manifest(copy, edit)
    assert validate(copy, capsys) == (1, [_labels_line(copy, 1)], "FAILED: 3 items checked, 1 problems")


def test_leftover_parts_folder_is_reported_and_a_rerun_finishes_it(copy, capsys):
    item = manifest(copy)[0]
    (copy / ".parts").mkdir()
    (copy / ".parts" / f"{item['id']}.json").write_text(json.dumps(item))
    assert validate(copy, capsys) == (
        1, [f"{copy / '.parts'}: left by an interrupted build; rerun the build to finish it"],
        "FAILED: 3 items checked, 1 problems")
    build_set(copy, *COMMON)
    assert not (copy / ".parts").exists() and validate_set(copy) == []


def test_interrupted_build_without_manifest_says_to_rerun(copy, capsys):
    (copy / ".parts").mkdir()
    (copy / "manifest.jsonl").unlink()
    code, lines, _ = validate(copy, capsys)
    assert code == 1 and lines == [f"{copy / 'manifest.jsonl'}: missing, {copy / '.parts'} holds the items of an "
                                   "interrupted build; rerun the build to finish it"]


def test_set_from_an_older_synth_without_labels_hash_warns_and_passes(copy, tmp_path, capsys):
    rewrite_manifest(copy, lambda items: [it.pop("labels_sha256") for it in items])
    assert validate(copy, capsys) == (
        0, [f"warning: {copy / 'manifest.jsonl'}: 3 of 3 items have no labels hash (built by an older synth), so "
            "their text and segments are not checked; `synth render <set> --out <new folder>` writes them "
            "with one"],
        "OK: 3 items checked, 0 problems, 1 warning")
    fixed = rerender(copy / "manifest.jsonl", tmp_path / "fixed")
    assert all("labels_sha256" in it for it in manifest(fixed)) and validate(fixed, capsys)[0] == 0


def test_a_manifest_line_that_is_not_an_object_is_a_line_not_a_traceback(copy, capsys):
    items = manifest(copy)
    rewrite_manifest(copy, lambda items: items.__setitem__(2, None))
    code, lines, _ = validate(copy, capsys)
    n_rttm, n_kept = sum(len(it["segments"]) for it in items), sum(len(it["segments"]) for it in items[:2])
    assert code == 1 and lines == [
        f"{copy / 'manifest.jsonl'}:3: not a JSON object",
        f"{copy / 'segments.rttm'}: {n_rttm} lines, manifest has {n_kept} segments",
        f"{copy / 'audio'}: 1 files not in the manifest, e.g. {items[2]['audio_filepath']}"]
