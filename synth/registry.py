"""Name -> class registries for synth's extension points (effects, eval engines, export formats)."""

from __future__ import annotations

from typing import Callable


def registrar(registry: dict[str, type], kind: str) -> Callable[[str], Callable[[type], type]]:
    """A ``@register(name)`` decorator that files a class under ``name`` in ``registry`` and sets ``cls.name``.

    ``kind`` names the extension point in the error raised when two classes claim one name.
    """

    def register(name: str) -> Callable[[type], type]:
        def deco(cls: type) -> type:
            if name in registry and registry[name] is not cls:
                raise RuntimeError(f"{kind} name {name!r} registered twice")
            registry[name] = cls
            cls.name = name
            return cls
        return deco
    return register
