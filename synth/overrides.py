"""What a command-line override may do.

* **No code from config.** Overrides may not make Hydra instantiate anything but synth's own classes: a
  ``_target_`` (or a logging ``()`` factory) named in an override's key or inside its value must be a
  ``synth.`` class, so ``+hydra.callbacks.x._target_=os.system`` is refused; so is selecting a
  ``hydra/callbacks`` option, whose targets cannot be checked here. synth ships no Hydra callbacks.
* **Which keys the command line set** (:func:`override_keys`), so they win over a profile file and the
  dataset card can list them.

Flags (``-m``, ``--cfg job``) are Hydra's; only ``key=value`` style arguments are read here.
"""

from __future__ import annotations

from .errors import ConfigError

ALLOWED_TARGETS = "synth."
FACTORY_KEYS = ("_target_", "()")


def _parsed(overrides: list[str]) -> list:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    out = []
    for o in overrides:
        if o.startswith("-") or ("=" not in o and not o.startswith("~")):
            continue  # a Hydra flag or a flag's value
        try:
            out.extend(parser.parse_overrides([o]))
        except HydraException:
            continue  # Hydra itself reports the syntax error when it composes
    return out


def _targets(value) -> list[str]:
    if isinstance(value, dict):
        return [str(v) if k in FACTORY_KEYS else t for k, v in value.items() for t in
                ([v] if k in FACTORY_KEYS else _targets(v))]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _targets(v)]
    return []


def check_overrides(overrides: list[str]) -> None:
    """Refuse, in one line, an override that would instantiate anything but a synth class."""
    for o in _parsed(overrides):
        key = o.key_or_group
        if key.replace("/", ".").startswith("hydra.callbacks") and "/" in key:
            raise ConfigError(f"override {o.input_line!r}: selecting a hydra/callbacks option is not allowed; "
                              "a config may only instantiate synth's own classes")
        values = getattr(o.value(), "list", [o.value()])
        targets = [str(v) for v in values] if key.split(".")[-1] in FACTORY_KEYS else _targets(values)
        bad = [t for t in targets if not t.startswith(ALLOWED_TARGETS)]
        if bad:
            raise ConfigError(f"override {o.input_line!r}: {bad[0]!r} is not a synth class; a config may only "
                              "instantiate synth's own classes (no Hydra callbacks or factories from elsewhere)")


def override_keys(overrides: list[str]) -> list[str]:
    """The config keys the command line set (``noise=none`` -> ``noise``; ``+a.b=1`` -> ``a.b``)."""
    return [o.key_or_group.replace("/", ".") for o in _parsed(overrides)
            if not o.key_or_group.startswith("hydra")]
