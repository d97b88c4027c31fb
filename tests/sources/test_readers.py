"""Speech from a corpus manifest, a NeMo JSONL manifest and a LibriSpeech tree, metadata kept."""

import json

from synth.sources.pools import build_pools

from helpers import CORPUS
from helpers import build_set, manifest


def test_corpus_manifest_keeps_speaker_metadata_and_mixed_formats(corpus_manifest):
    pools = build_pools(CORPUS)
    assert len(pools.speech.speakers) == 23
    assert len(pools.speech.utterances) == sum(r["kind"] == "speech" for r in corpus_manifest)
    axb = pools.speech.by_speaker["cmu_arctic_axb"][0]
    assert axb.meta["gender"] == "F" and "CMU ARCTIC" in axb.meta["license"]
    assert len(pools.noise) == 5 and len(pools.rirs) == 9


def test_nemo_manifest_with_metadata(tmp_path):
    rows = [{"audio_filepath": str(CORPUS / "speech/cmu_arctic_axb/arctic_a0004.wav"), "duration": 2.8,
             "text": "LORD BUT I'M GLAD TO SEE YOU AGAIN PHIL", "speaker": "axb", "gender": "F",
             "accent": "indian_english", "language": "en", "license": "CMU ARCTIC"},
            {"audio_filepath": str(CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav"), "duration": 3.9,
             "text": "AUTHOR OF THE DANGER TRAIL PHILIP STEELS ETC", "speaker": "aew", "gender": "M",
             "accent": "us_english", "language": "en", "license": "CMU ARCTIC"}]
    m = tmp_path / "train.jsonl"
    m.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pools = build_pools(CORPUS, speech=str(m))
    u = pools.speech.by_speaker["axb"][0]
    assert u.meta["accent"] == "indian_english" and u.meta["language"] == "en" and u.text.startswith("LORD")
    out = build_set(tmp_path / "set", "n_items=6", f"sources.speech={m}", "room=none",
                    "++scenario.speakers.weights.accent={indian_english: 1.0}")
    talkers = [t for it in manifest(out) for t in it["recipe"]["talkers"]]
    assert {t["source_speaker"] for t in talkers} == {"axb"}
    assert talkers[0]["speaker_meta"]["accent"] == "indian_english"
    card = json.loads((out / "card.json").read_text())
    assert card["speaker_mix"]["accent"]["indian_english"] == {"target": 1.0, "realized": 1.0}


def test_card_reports_realized_speaker_mix_against_target(tmp_path):
    out = build_set(tmp_path / "set", "n_items=60", "room=none", "++scenario.speakers.weights.gender={F: 0.7, M: 0.3}")
    mix = json.loads((out / "card.json").read_text())["speaker_mix"]["gender"]
    assert mix["F"]["target"] == 0.7 and abs(mix["F"]["realized"] - 0.7) < 0.15   # binomial, n=60: 2.5 SD
    assert abs(mix["F"]["realized"] + mix["M"]["realized"] - 1.0) < 1e-9          # unknown-gender speakers excluded


def test_librispeech_tree(tmp_path):
    chapter = tmp_path / "LibriSpeech" / "2412" / "153948"
    chapter.mkdir(parents=True)
    for uid in ("2412-153948-0000", "2412-153948-0001"):  # links, not copies, of the corpus files
        (chapter / f"{uid}.flac").symlink_to(CORPUS / f"speech/librispeech_2412/{uid}.flac")
    (chapter / "2412-153948.trans.txt").write_text(
        "2412-153948-0000 IF THE READER WILL EXCUSE ME\n2412-153948-0001 IT WILL BE SEEN THAT I DID NOT SUCCEED\n")
    pools = build_pools(CORPUS, speech=str(tmp_path / "LibriSpeech"))
    assert pools.speech.speakers == ["librispeech_2412"]
    assert [u.text for u in pools.speech.utterances][1].startswith("IT WILL BE SEEN")
    assert abs(pools.speech.utterances[0].duration_s - 11.66) < 0.01


def test_plain_noise_and_rir_folders(tmp_path):
    pools = build_pools(CORPUS, noise=str(CORPUS / "noise"), rir=str(CORPUS / "rir"))
    assert len(pools.noise) == 5 and len(pools.rirs) == 9
