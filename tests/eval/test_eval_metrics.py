"""WER/CER scoring, bootstrap intervals against known answers, paired deltas, lost words, multi-talker."""

import numpy as np
import pytest

from synth.eval.metrics import (SummaryConfig, align, bootstrap_ratio, interval, paired_delta, score_item,
                                summarize, summarize_group)


def item(i, text, slice_="clean", segments=None, **kw):
    d = {"id": i, "audio_filepath": f"audio/{i}.flac", "duration": 1.0, "text": text,
         "slice": {"slice": slice_}, "segments": segments if segments is not None else
         [{"speaker": "A", "start": 0.0, "end": 1.0, "text": text, "source_id": f"src-{i.split('-')[-1]}"}]}
    d.update(kw)
    return d


def test_align_counts_and_ops():
    a = align("a b c d", "a x c d e")
    assert (a["substitutions"], a["deletions"], a["insertions"], a["hits"], a["errors"], a["ref_words"]) == (1, 0, 1, 3, 2, 4)
    assert a["ops"] == [["eq", "a", "a"], ["sub", "b", "x"], ["eq", "c", "c"], ["eq", "d", "d"], ["ins", None, "e"]]
    assert align("", "")["errors"] == 0
    assert align("a b", "")["deletions"] == 2
    assert align("", "a")["insertions"] == 1


def test_corpus_wer_is_sum_errors_over_sum_words():
    scored = [score_item(item("c-0", "one two three four"), {"text": "one two three four"}),
              score_item(item("c-1", "five"), {"text": "six"})]
    s = summarize_group("x", scored, SummaryConfig(n_boot=200))
    assert s["wer"] == pytest.approx(1 / 5)  # not the mean of per-item rates (0.5)
    assert s["errors"] == 1 and s["ref_words"] == 5
    assert score_item(item("c-2", "Go forward 10 meters."), {"text": "go forward ten meters"})["wer"]["errors"] == 0


def test_bootstrap_width_matches_binomial_se():
    """Items of one word each, errors i.i.d. Bernoulli(p): the WER is a binomial proportion, so the 95%
    interval width should be 2 * 1.96 * sqrt(p(1-p)/n)."""
    rng = np.random.default_rng(7)
    n, p = 400, 0.2
    e = (rng.random(n) < p).astype(float)
    phat = e.mean()
    lo, hi = interval(bootstrap_ratio(e, np.ones(n), np.random.default_rng(1), 4000))
    analytic = 2 * 1.96 * np.sqrt(phat * (1 - phat) / n)
    assert hi - lo == pytest.approx(analytic, rel=0.08)
    assert lo < phat < hi


@pytest.mark.parametrize("variable_length", [False, True])
def test_bootstrap_coverage_is_about_95_percent(variable_length):
    """Over repeated simulated test sets with a known true WER, the 95% interval covers it ~95% of the time."""
    rng = np.random.default_rng(11)
    n, p, sims, hits = 150, 0.15, 300, 0
    for k in range(sims):
        words = rng.integers(1, 21, n).astype(float) if variable_length else np.ones(n)
        errs = rng.binomial(words.astype(int), p).astype(float)
        lo, hi = interval(bootstrap_ratio(errs, words, np.random.default_rng(1000 + k), 500))
        hits += lo <= p <= hi
    assert 0.90 <= hits / sims <= 0.99, hits / sims


def test_bootstrap_is_seeded_and_independent_of_global_rng():
    scored = [score_item(item(f"c-{k}", "a b c d"), {"text": "a b x d" if k % 3 else "a b c d"}) for k in range(30)]
    np.random.seed(123)  # must not matter
    s1 = summarize_group("g", scored, SummaryConfig(seed=0, n_boot=300))
    np.random.seed(999)
    s2 = summarize_group("g", scored, SummaryConfig(seed=0, n_boot=300))
    s3 = summarize_group("g", scored, SummaryConfig(seed=1, n_boot=300))
    assert s1["wer_ci"] == s2["wer_ci"] and s1["wer_ci"] != s3["wer_ci"]


def test_paired_delta_cancels_shared_difficulty():
    """Slice 'noisy' = 'clean' plus exactly one extra substitution per item. Items differ a lot in
    difficulty, which the paired interval must not see: it is far narrower than either slice's own CI."""
    rng = np.random.default_rng(3)
    clean, noisy = [], []
    for k in range(60):
        words = [f"w{j}" for j in range(10)]
        n_err = int(rng.integers(0, 9))
        hyp = ["x"] * n_err + words[n_err:]
        clean.append(score_item(item(f"clean-{k}", " ".join(words)), {"text": " ".join(hyp)}))
        hyp2 = ["x"] * (n_err + 1) + words[n_err + 1:]
        noisy.append(score_item(item(f"noisy-{k}", " ".join(words), "noisy"), {"text": " ".join(hyp2)}))
    cfg = SummaryConfig(n_boot=1000)
    d = paired_delta(noisy, clean, "t", cfg)
    assert d["n_pairs"] == 60 and d["delta"] == pytest.approx(0.1)
    lo, hi = d["delta_ci"]
    assert lo == pytest.approx(0.1) and hi == pytest.approx(0.1)  # every pair differs by exactly 1/10
    own = summarize_group("clean", clean, cfg)["wer_ci"]
    assert own[1] - own[0] > 0.05
    summ = summarize(clean + noisy, cfg)
    assert summ["reference_slice"] == "clean"
    assert summ["slices"]["noisy"]["paired_vs_ref"]["delta"] == pytest.approx(0.1)


def test_lost_words_are_counted_apart_from_recognition_errors():
    segs = [{"speaker": "A", "start": 0.0, "end": 1.0, "text": "go forward", "lost": False},
            {"speaker": "A", "start": 1.0, "end": 2.0, "text": "ten meters", "lost": True}]
    s = score_item(item("c-0", "go forward ten meters", segments=segs), {"text": "go forward"})
    assert s["lost"] == {"lost_words": 2, "lost_word_errors": 2, "attributed": True}
    g = summarize_group("g", [s], SummaryConfig(n_boot=100))
    assert g["wer"] == pytest.approx(0.5) and g["wer_excl_lost"] == pytest.approx(0.0)
    s2 = score_item(item("c-1", "go forward ten meters", segments=segs), {"text": "go backward ten meters"})
    assert s2["lost"]["lost_word_errors"] == 0  # the error is on a word that was not lost


def test_multitalker_cpwer_and_orcwer():
    segs = [{"speaker": "A", "start": 0.0, "end": 1.0, "text": "hello there"},
            {"speaker": "B", "start": 0.8, "end": 2.0, "text": "hi how are you"},
            {"speaker": "A", "start": 2.1, "end": 3.0, "text": "fine thanks"}]
    it = item("m-0", "hello there hi how are you fine thanks", segments=segs)
    single = score_item(it, {"text": "hello there hi how are you fine thanks"})["multitalker"]
    assert single["n_ref_speakers"] == 2 and single["orcwer"]["errors"] == 0
    # single stream vs 2 speakers: assigned to A (B deleted: 4) and B's words in it are insertions (4)
    assert single["cpwer"]["errors"] == 8 and single["cpwer"]["deletions"] == 4 and single["cpwer"]["missed_speakers"] == 1
    per_spk = score_item(it, {"text": "x", "speakers": {"s1": "hi how are you", "s2": "hello there fine thanks"}})
    assert per_spk["multitalker"]["cpwer"]["errors"] == 0
    summ = summarize_group("g", [per_spk], SummaryConfig(n_boot=100))
    assert summ["cpwer"] == 0.0


def test_der_when_engine_returns_speaker_segments():
    segs = [{"speaker": "A", "start": 0.0, "end": 2.0, "text": "a b"},
            {"speaker": "B", "start": 2.0, "end": 4.0, "text": "c d"}]
    it = item("m-1", "a b c d", segments=segs, duration=4.0)
    perfect = score_item(it, {"text": "a b c d", "segments": [{"speaker": "x", "start": 0, "end": 2},
                                                                {"speaker": "y", "start": 2, "end": 4}]})
    assert perfect["der"]["errors_s"] == pytest.approx(0.0)
    half = score_item(it, {"text": "a b c d", "segments": [{"speaker": "x", "start": 0, "end": 2}]})
    assert half["der"]["missed_s"] == pytest.approx(2.0) and half["der"]["total_s"] == pytest.approx(4.0)
    assert score_item(it, {"text": "a b c d"})["der"] is None
