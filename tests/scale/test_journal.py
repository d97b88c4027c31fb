"""The build journal of a loose set (.parts/run-<k>.jsonl): one file per run, merged back into item order,
a later run's line winning, a line cut off by a kill ignored, a missing item named."""

import json

import pytest

from synth.errors import SynthError
from synth.writer import journal

IDS = [f"st-{i:06d}" for i in range(6)]
ORDER = {item_id: i for i, item_id in enumerate(IDS)}


def line(item_id: str, run: int) -> str:
    return json.dumps({"id": item_id, "audio_filepath": f"audio/{item_id}.flac", "audio_sha256": f"sha-{run}"})


def journal_run(out, ids, run):
    with journal.Journal(out, ORDER) as j:
        j.add((i, line(i, run)) for i in ids)


def test_runs_merge_into_item_order_and_a_later_run_wins(tmp_path):
    journal_run(tmp_path, [IDS[0], IDS[2], IDS[3]], 0)
    journal_run(tmp_path, [IDS[1], IDS[3], IDS[4], IDS[5]], 1)   # item 3 made again (its audio had changed)
    assert [p.name for p in journal.runs(tmp_path)] == ["run-0.jsonl", "run-1.jsonl"]
    merged = [json.loads(l) for l in journal.merged(tmp_path, IDS)]
    assert [m["id"] for m in merged] == IDS
    assert [m["audio_sha256"] for m in merged] == ["sha-0", "sha-1", "sha-0", "sha-1", "sha-1", "sha-1"]
    assert journal.count(tmp_path) == 6 and journal.count(tmp_path, IDS[:2] + ["other-000001"]) == 2
    assert journal.finished(tmp_path)[IDS[3]] == (f"audio/{IDS[3]}.flac", "sha-1")


def test_a_line_cut_off_by_a_kill_is_ignored_and_its_item_is_missing(tmp_path):
    journal_run(tmp_path, IDS[:3], 0)
    path = journal.runs(tmp_path)[0]
    path.write_bytes(path.read_bytes()[:-7])                    # the last line's end never reached the disk
    assert sorted(journal.finished(tmp_path)) == IDS[:2] and journal.count(tmp_path) == 2
    with pytest.raises(SynthError, match=f"item {IDS[2]} has no manifest line.*rerun the build"):
        list(journal.merged(tmp_path, IDS[:3]))


def test_a_missing_item_in_the_middle_is_named(tmp_path):
    journal_run(tmp_path, [IDS[0], IDS[2]], 0)
    with pytest.raises(SynthError, match=f"item {IDS[1]} has no manifest line"):
        list(journal.merged(tmp_path, IDS[:3]))


def test_lines_out_of_item_order_are_refused_when_written(tmp_path):
    with journal.Journal(tmp_path, ORDER) as j:
        j.add([(IDS[2], line(IDS[2], 0))])
        with pytest.raises(SynthError, match="out of order"):
            j.add([(IDS[1], line(IDS[1], 0))])


def test_a_finished_manifest_becomes_run_0(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(line(i, 7) + "\n" for i in IDS))
    journal.write_from_manifest(tmp_path, manifest)
    assert list(journal.merged(tmp_path, IDS)) == manifest.read_text().splitlines()
