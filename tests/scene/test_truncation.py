"""No emitted transcript contains a word that is not in the audio: every truncation point is checked."""

from __future__ import annotations

import numpy as np

from synth.audio import load
from synth.scene.conversation import ConversationScenario
from synth.scene.truncation import cut_at, cut_points, find_pauses
from synth.sources.speech import SpeechPool, Utterance


def _aligned_sources(corpus_root, corpus_manifest, n_utts=6, words_per_utt=5, seed=0):
    """Word-aligned 'utterances': single-word corpus files (speech commands) with pauses between them.
    Returns (audio, words) pairs; the alignment is exact by construction."""
    singles = [r for r in corpus_manifest if r["path"].startswith("speech/speech_commands_")]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_utts):
        x, words, t = [], [], 0.0
        for r in rng.choice(len(singles), words_per_utt):
            a = np.asarray(load(corpus_root / singles[r]["path"], 16000))
            gap = np.zeros(int(rng.uniform(0.05, 0.3) * 16000), np.float32)
            x += [a.astype(np.float32).ravel(), gap]
            words.append({"word": singles[r]["transcript"], "start": t, "end": t + len(a) / 16000})
            t += (len(a) + len(gap)) / 16000
        out.append((np.concatenate(x), words))
    return out


def test_every_cut_keeps_only_complete_words(corpus_root, corpus_manifest):
    for audio, words in _aligned_sources(corpus_root, corpus_manifest):
        dur = len(audio) / 16000
        for desired in np.arange(0.0, dur + 0.01, 0.01):
            c = cut_at(words, desired)
            if c is None:
                assert desired < words[0]["end"]
                continue
            assert c.cut_s <= desired + 1e-9
            assert all(w["end"] <= c.cut_s + 1e-9 for w in c.kept_words)
            assert c.text.split() == [w["word"] for w in c.kept_words]
            later = [w for w in words if w["end"] > c.cut_s + 1e-9]
            assert len(c.kept_words) + len(later) == len(words)  # nothing dropped in the middle
            if c.partial_word is not None:
                assert later[0]["start"] < desired and later[0]["word"] == c.partial_word


def test_no_alignment_never_cuts():
    assert cut_points(None) is None and cut_at(None, 1.0) is None and cut_at([], 1.0) is None


def test_pause_finder_on_tones_separated_by_silence():
    sr = 16000
    tone = lambda s: 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(s * sr)) / sr)  # noqa: E731
    x = np.concatenate([tone(0.5), np.zeros(int(0.3 * sr)), tone(0.4), np.zeros(int(0.1 * sr)), tone(0.5)])
    p = find_pauses(x.astype(np.float32), sr)
    assert len(p) == 1 and abs(p[0][0] - 0.5) <= 0.02 and abs(p[0][1] - 0.8) <= 0.02  # the 0.1 s gap is too short


def test_truncated_recipe_utterances_are_word_true(tmp_path, corpus_root, corpus_manifest):
    """Conversations built from aligned sources: every truncated utterance keeps only words inside its audio."""
    srcs = _aligned_sources(corpus_root, corpus_manifest, n_utts=8, words_per_utt=8, seed=1)
    utts = []
    for i, (audio, words) in enumerate(srcs):
        spk = f"spk{i % 2}"
        utts.append(Utterance(id=f"u{i}", path=tmp_path / f"u{i}.wav", rel_path=f"u{i}.wav", speaker=spk,
                              text=" ".join(w["word"] for w in words), duration_s=len(audio) / 16000,
                              meta={"gender": "F"}, words=words))
    pool = SpeechPool(utts)
    sc = ConversationScenario(turns={"p_overlap": 0.8, "p_interrupt": 1.0}, duration_s=60.0)
    n_trunc = 0
    for k in range(30):
        r = sc.sample(np.random.default_rng(k), pool, 16000)
        for t in r["talkers"]:
            for u in t["utterances"]:
                src = next(x for x in utts if x.id == u["source_id"])
                kept = [w for w in src.words if w["end"] <= u["src_end_s"] + 1e-9]
                assert u["text"].split() == [w["word"] for w in kept]  # exactly the words inside the audio
                if u["truncated"]:
                    n_trunc += 1
                    assert u["src_end_s"] < src.duration_s
                    assert all(w["end"] <= u["src_end_s"] + 1e-9 for w in u["words"])
    assert n_trunc >= 20
