"""Tar shards in NeMo's ``convert_to_tarred_audio_dataset`` layout (``audio_N.tar`` of ``{key}.flac`` +
``{key}.json``, ``sharded_manifests/manifest_N.json``, ``tarred_audio_manifest.json``), which WebDataset,
Hugging Face's ``webdataset`` builder and NeMo read as they are. Bytes are deterministic: members carry no
time, owner or permissions of the machine that wrote them.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from pathlib import Path


def member_key(item_id: str) -> str:
    """The WebDataset key of an item: its id with dots replaced (WebDataset splits a member name at its first
    dot, so ``.`` becomes ``_``)."""
    key = str(item_id).replace(".", "_")
    if not key or "/" in key or "\\" in key:
        raise ValueError(f"item id {item_id!r} cannot name a tar member")
    return key


def shard_name(index: int) -> str:
    return f"audio_{index}.tar"


def shard_manifest_name(index: int) -> str:
    return f"sharded_manifests/manifest_{index}.json"


def nemo_entry(line: dict, key: str, ext: str, shard_id: int) -> dict:
    """A manifest line as NeMo's tarred datasets expect it: ``audio_filepath`` is the member name. NeMo configs
    point at ``audio__OP_0..N_CL_.tar`` (``N``: the last shard); its Lhotse reader (``LazyNeMoTarredIterator``)
    rejects the ``.json`` members unless ``skip_missing_manifest_entries: true``; its classic reader ignores them."""
    return {**line, "audio_filepath": f"{key}.{ext}", "shard_id": shard_id}


class TarShard:
    """One tar shard written to a temp name and renamed into place on :meth:`close`, so a killed writer
    never leaves a shard that looks finished. Use as a context manager; an exception discards the shard."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.USTAR_FORMAT)
        self.keys: list[str] = []

    def _add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o644, 0, 0
        info.uname = info.gname = ""
        self._tar.addfile(info, io.BytesIO(data))

    def add(self, key: str, audio: bytes, ext: str, meta: dict) -> None:
        """Append ``{key}.{ext}`` (encoded audio) and ``{key}.json`` (``meta``) as one sample."""
        if key in self.keys:
            raise ValueError(f"tar shard {self.path}: key {key!r} added twice")
        self._add_bytes(f"{key}.{ext}", audio)
        self._add_bytes(f"{key}.json", json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        self.keys.append(key)

    def close(self) -> None:
        self._tar.close()
        self._file.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        self._tar.close()
        self._file.close()
        Path(self._tmp).unlink(missing_ok=True)

    def __enter__(self) -> "TarShard":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()
