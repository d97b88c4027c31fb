"""The config schema (Hydra structured configs), so an unknown key fails when the config is composed.

Values that may vary per item are written with the syntax of :mod:`synth.dist`; the groups that hold
effect settings (``room``, ``noise``, ``level``, ``channel``) are validated when their effects are built,
which also happens before any item is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore


@dataclass
class SourcesConfig:
    root: str = "../shared/corpus"      # a corpus folder (manifest.jsonl, or speech/ noise/ rir/)
    speech: Optional[str] = None        # corpus folder, NeMo .jsonl manifest or LibriSpeech tree; default: root
    noise: Optional[str] = None         # folder of noise audio or .jsonl; default: root's noise
    rir: Optional[str] = None           # folder of RIRs or .jsonl; default: root's rir
    exclude: Optional[list] = None      # built sets (or manifests) whose speakers, utterances, noise and RIRs
                                        # are left out of the pools (leakage guard for augmentation)
    check: str = "auto"                 # speech sample checks: all (before the first item) | used (when an
                                        # item first draws a file) | auto (all up to 5,000 speech files)


@dataclass
class OutputConfig:
    format: str = "flac"                # flac | wav (16-bit PCM)
    stems: bool = False                 # also write clean speech per talker and noise per leg
    layout: str = "mono"                # mono | stereo (one channel per call leg)
    sample_rate: Optional[int] = None   # output rate; default: what the channel chain ends at
    shard_size: Optional[int] = None    # items per shard (per-shard manifests and labels); null/0: unsharded
    container: str = "files"            # sharded sets: files (audio/<id>.flac) | tar (audio_<n>.tar, NeMo layout)


@dataclass
class ExecutorConfig:
    name: str = "local"                 # local: this machine (`workers` processes) | ray: a Ray cluster
    address: Optional[str] = None       # ray: auto (join this machine's cluster, else start one) | <head>:6379
                                        # | ray://<head>:10001 | local (a private cluster for the build)
    num_cpus: Optional[int] = None      # ray: actors (one CPU each); default: every CPU of the cluster
    verbose: bool = False               # ray: show Ray's own log lines and warnings and what it prints for workers


@dataclass
class SynthConfig:
    seed: int = 0
    n_items: int = 50
    out_dir: str = "out/demo"
    workers: int = 1
    on_bad_input: str = "error"         # error | skip
    sample_rate: int = 16000            # working rate for mixing
    id_prefix: Optional[str] = None     # item ids are <prefix>-000000...; default from the scenario
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    scenario: Any = None
    room: Any = None
    noise: Any = None
    level: Any = None
    channel: Any = None
    behavior: Any = None                # restarts, repetitions, hesitations, fillers per talker (synth.behavior)
    output: OutputConfig = field(default_factory=OutputConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    profile: Any = None
    suite: Any = None


def register_configs() -> None:
    ConfigStore.instance().store(name="base_config", node=SynthConfig)


def check_keys(cfg: dict, where: str) -> None:
    """Stop on a key the schema does not know (``+foo=1``, ``n_itemz: 5`` in a profile file), naming it.

    Checks the top-level keys and the typed sections (``sources``, ``output``) with their types; the
    groups typed ``Any`` are checked when their effects are built.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigKeyError, ValidationError

    from .errors import ConfigError

    try:
        OmegaConf.merge(OmegaConf.structured(SynthConfig), cfg)
    except ConfigKeyError as e:
        raise ConfigError(f"{where}: unknown key {e.full_key!r}; see the keys with `synth build --cfg job`") from None
    except ValidationError as e:
        raise ConfigError(f"{where}: {e.full_key}: {str(e).splitlines()[0]}") from None
