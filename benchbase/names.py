"""Names typed by a user: matched without regard to case, with suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'KELM'?)"`` for the closest known name, or ""."""
    known = list(known)
    lowered = {option.lower(): option for option in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


def canonical(name: str, known: Iterable[str]) -> str | None:
    """The known name equal to ``name`` ignoring case (exact spelling first)."""
    known = list(known)
    if name in known:
        return name
    matches = [option for option in known if option.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None
