"""Runner: cached hypotheses resume an interrupted eval; results do not depend on the worker count."""

from __future__ import annotations

import json
import sys

from evalsets import SENTENCES, corrupt, ladder_items, write_hyps, write_set
import pytest

from synth.audio import atomic_write_text
from synth.errors import SynthError
from synth.eval.engines import EngineSpec, engine_key
from synth.eval.run import cache_name, evaluate


def test_resume_computes_only_uncached_items(tmp_path, ladder_set):
    log = tmp_path / "calls.log"
    prog = tmp_path / "asr.py"
    prog.write_text("import sys, pathlib\n"
                    f"open({str(log)!r}, 'a').write(pathlib.Path(sys.argv[1]).stem + '\\n')\n"
                    "print('the cat sat on the mat')\n")
    spec = EngineSpec(name="command", command=f"{sys.executable} {prog} {{audio}}")
    items = [json.loads(line) for line in (ladder_set / "manifest.jsonl").read_text().splitlines()]
    hyp_dir = ladder_set / "eval" / engine_key(spec) / "hyps"
    cached = [it["id"] for it in items[::2]]
    for i in cached:  # as if an earlier run had been killed after these
        atomic_write_text(hyp_dir / cache_name(i), json.dumps({"id": i, "hyp": {"text": "from cache"}}))
    res = evaluate(ladder_set, spec, show_progress=False)
    called = log.read_text().split()
    assert sorted(called) == sorted(it["id"] for it in items[1::2])
    assert res["n_hypotheses_computed"] == len(items) // 2
    by_id = {it["id"]: it for it in res["items"]}
    assert all(by_id[i]["hyp"] == "from cache" for i in cached)
    assert all((hyp_dir / cache_name(it["id"])).is_file() for it in items)
    # a second run computes nothing
    res2 = evaluate(ladder_set, spec, show_progress=False)
    assert res2["n_hypotheses_computed"] == 0 and len(log.read_text().split()) == len(called)
    assert (ladder_set / "eval" / engine_key(spec) / "results.json").is_file()
    assert (ladder_set / "eval" / engine_key(spec) / "results.csv").read_text().startswith("group,name,")


def test_corrupt_cache_entry_is_recomputed(tmp_path, ladder_set):
    hyps = write_hyps(tmp_path / "h.jsonl", {f"{s}-{k:03d}": SENTENCES[k] for s in ("clean", "snr_10", "snr_0")
                                             for k in range(6)})
    spec = EngineSpec(name="hypotheses", hypotheses=str(hyps))
    hyp_dir = ladder_set / "eval" / engine_key(spec) / "hyps"
    hyp_dir.mkdir(parents=True)
    (hyp_dir / cache_name("clean-000")).write_text('{"id": "clean-000", "hyp": {"te')  # torn write
    res = evaluate(ladder_set, spec, show_progress=False)
    assert res["n_hypotheses_computed"] == 18 and res["summary"]["overall"]["wer"] == 0.0


def test_results_independent_of_worker_count(tmp_path):
    items = ladder_items()
    set_dir = write_set(tmp_path / "set", items)
    hyps = write_hyps(tmp_path / "h.jsonl", {it["id"]: corrupt(it["text"], k % 3) for k, it in enumerate(items)})
    spec = EngineSpec(name="hypotheses", hypotheses=str(hyps))
    r1 = evaluate(set_dir, spec, workers=1, cache_dir=tmp_path / "c1", show_progress=False)
    r2 = evaluate(set_dir, spec, workers=2, cache_dir=tmp_path / "c2", show_progress=False)
    assert json.dumps(r1["summary"], sort_keys=True) == json.dumps(r2["summary"], sort_keys=True)
    assert [it["hyp"] for it in r1["items"]] == [it["hyp"] for it in r2["items"]]
    assert r1["summary"]["reference_slice"] == "clean"
    assert set(r1["summary"]["slices"]) == {"clean", "snr_10", "snr_0"}
    assert "slice.snr_bin" in r1["summary"]["dimensions"]


def test_worker_error_reaches_the_user_as_one_line(tmp_path):
    items = ladder_items()
    set_dir = write_set(tmp_path / "set", items)
    hyps = write_hyps(tmp_path / "h.jsonl", {it["id"]: it["text"] for it in items[:-1]})
    with pytest.raises(SynthError, match="no hypothesis for item 'snr_0-005'"):
        evaluate(set_dir, EngineSpec(name="hypotheses", hypotheses=str(hyps)), workers=2, show_progress=False)
