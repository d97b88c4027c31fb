"""The PyTorch adapters: the same audio for the same (seed, epoch, key) whatever the DataLoader's worker
count, rendered conversations with their segment labels, sharding over workers and ranks."""

import numpy as np
import pytest
import soundfile as sf
import torch

from synth.audio import load
from synth.augment import AugmentTransform, Augmenter, RenderedDataset, collate
from synth.errors import ConfigError

from helpers import CORPUS, build_set, manifest

UTTS = sorted(CORPUS.glob("speech/librispeech_*/*.flac"))[:4]
BASE = [f"sources.root={CORPUS}", "room=none", "channel=g711_ulaw"]
CONV = [f"sources.root={CORPUS}", "scenario=conversation", "scenario.duration_s=[6.0,9.0]", "room=none"]


class Utterances(torch.utils.data.Dataset):
    """Your own training utterances, augmented in the DataLoader's workers."""

    def __init__(self, aug: Augmenter, epoch: int):
        self.aug, self.epoch = aug, epoch
        self.audio = [load(p, 16000)[:24000] for p in UTTS]

    def __len__(self):
        return len(self.audio)

    def __getitem__(self, i):
        return torch.from_numpy(self.aug(self.audio[i], 16000, UTTS[i].stem, self.epoch).samples)


@pytest.fixture(scope="module")
def aug():
    return Augmenter.from_config(BASE, seed=3)


@pytest.fixture(scope="module")
def conversations():
    return RenderedDataset.from_config(CONV, seed=5, n_items=5)


def run(ds, workers: int, batch_size=None, collate_fn=None) -> list:
    return list(torch.utils.data.DataLoader(ds, batch_size=batch_size, num_workers=workers, collate_fn=collate_fn))


def test_augmented_utterances_are_identical_with_0_or_2_workers_and_change_with_the_epoch(aug):
    one, two = run(Utterances(aug, 0), 0), run(Utterances(aug, 0), 2)
    assert len(one) == len(UTTS) and all(torch.equal(a, b) for a, b in zip(one, two))
    later = run(Utterances(aug, 1), 2)
    assert all(not torch.equal(a, b) for a, b in zip(one, later))


def test_transform_batches_keep_shape_padding_and_are_the_identity_in_eval(aug):
    x = torch.from_numpy(np.stack([load(p, 16000)[:16000] for p in UTTS[:2]]))
    t = AugmentTransform(aug)
    y = t(x, 16000, keys=["a", "b"])
    assert y.shape == x.shape and y.dtype == x.dtype
    assert torch.equal(y[1], torch.from_numpy(aug(x[1].numpy(), 16000, "b", 0).samples))
    assert [c["codec"] for c in t.last_conditions] == ["g711_ulaw", "g711_ulaw"]
    padded = x.clone()
    padded[1, 12000:] = 0
    z = t(padded, 16000, keys=["a", "b"], lengths=[16000, 12000])
    assert torch.equal(z[1, 12000:], torch.zeros(4000)) and not torch.equal(z[1, :12000], padded[1, :12000])
    stereo = x[:, None, :].repeat(1, 2, 1)
    assert t(stereo, 16000, keys=["a", "b"]).shape == (2, 2, 16000)
    t.set_epoch(0)
    first = t(x, 16000)        # default keys: call counter and batch index, with the epoch
    t.set_epoch(0)
    assert torch.equal(t(x, 16000), first)
    t.set_epoch(1)
    assert not torch.equal(t(x, 16000), first)
    t.eval()
    assert t(x, 16000) is x and t.last_conditions == [{"augmented": False}] * 2


@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # 4 workers on a 2-core runner, on purpose
def test_rendered_items_are_the_same_for_any_worker_count(conversations, workers):
    conversations.set_epoch(0)
    base = {it["id"]: it for it in run(conversations, 0, collate_fn=lambda it: it)}
    items = run(conversations, workers, collate_fn=lambda it: it)
    ids = [it["id"] for it in items]
    assert sorted(ids) == sorted(base) and len(set(ids)) == 5    # every item once
    for it in items:
        assert torch.equal(it["audio"], base[it["id"]]["audio"]) and it["segments"] == base[it["id"]]["segments"]


def test_rendered_conversations_carry_segments_conditions_and_a_new_draw_per_epoch(conversations):
    conversations.set_epoch(0)
    batches = run(conversations, 2, batch_size=2, collate_fn=collate)
    b = batches[0]
    assert b["audio"].dim() == 2 and b["lengths"].max() == b["audio"].shape[-1] and b["sample_rate"] == 16000
    for segs, cond, n in zip(b["segments"], b["conditions"], b["lengths"]):
        assert {s["speaker"] for s in segs} == {"A", "B"}
        assert all(0 <= s["start"] < s["end"] <= n / 16000 + 1e-3 and s["text"] for s in segs)
        assert cond["scenario"] == "conversation" and cond["n_speakers"] == 2 and "snr_db" in cond
    first = conversations.item(0)
    conversations.set_epoch(1)
    later = conversations.item(0)
    conversations.set_epoch(0)
    assert later["segments"] != first["segments"] and later["epoch"] == 1


def test_ranks_take_disjoint_shares(conversations, monkeypatch):
    conversations.set_epoch(0)
    seen = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        seen.append([it["id"] for it in conversations])
    assert seen == [["conv-000000", "conv-000002", "conv-000004"], ["conv-000001", "conv-000003"]]


def test_epoch_0_items_are_the_items_synth_build_writes(conversations, tmp_path):
    built = build_set(tmp_path / "set", *CONV[1:], "seed=5", "n_items=2")
    conversations.set_epoch(0)
    for line in manifest(built):
        item = conversations.item(int(line["id"].rsplit("-", 1)[1]))
        audio, _ = sf.read(built / line["audio_filepath"], dtype="float32")
        assert item["segments"] == line["segments"] and item["text"] == line["text"]
        assert np.max(np.abs(item["audio"].numpy() - audio)) <= 1 / 32768 + 1e-7   # 16-bit FLAC quantization


def test_n_items_must_be_a_whole_number(conversations):
    for bad in ("10", 2.5, -1, True, [3]):
        with pytest.raises(ConfigError, match="n_items="):
            RenderedDataset(conversations.plan, n_items=bad)
    assert len(RenderedDataset(conversations.plan, n_items=np.int64(3))) == 3
