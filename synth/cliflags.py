"""Spellings the commands share (the README's "One CLI convention" table): an old spelling of a flag is
still accepted, rewritten to the new one with a one-line hint on stderr.
"""

from __future__ import annotations

import sys


def respell(prog: str, argv: list[str], renamed: dict[str, str]) -> list[str]:
    """``argv`` with each old flag of ``renamed`` replaced by its new spelling, printing one ``hint:`` line per
    old flag used. A new spelling is a flag (``{"--n": "--n-items"}``) or, written ``<name>``, the command's
    positional input (``{"--from": "<set>"}``: ``--from X`` becomes ``X``)."""
    out, told = [], set()
    it = iter(argv)
    for a in it:
        if a == "--":  # the rest is not flags
            out += [a, *it]
            break
        flag, eq, value = a.partition("=")
        if flag not in renamed:
            out.append(a)
            continue
        new = renamed[flag]
        positional = new.startswith("<")
        if positional:
            value = value if eq else next(it, "")
        if flag not in told:
            told.add(flag)
            now = f"the positional {new}: {prog} {value} ..." if positional else new
            print(f"hint: {prog} {flag} is now {now}; {flag} still works", file=sys.stderr)
        if positional:
            out.append(value)
        else:
            out.append(f"{new}={value}" if eq else new)
    return out

