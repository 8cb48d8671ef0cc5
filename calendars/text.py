"""Text that reaches a feed: template text, and anything a person typed made harmless.

The renderer escapes backslashes, commas, semicolons and newlines, so escaping alone already
stops a value from opening a property or a component; stripping control characters and
capping the length on top keeps odd bytes (NUL, bare CR, bidi overrides) and pasted novels
out of people's calendars.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

MAX_TYPED = 200
"""Characters kept of one person-typed value (an address, a phone number, a calendar name)."""


_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ZWJ = "\u200d"  # joins emoji sequences; harmless


def _dropped(ch: str) -> bool:
    return ch != _ZWJ and unicodedata.category(ch) in _DROPPED


@lru_cache(maxsize=4096)
def clean(text: str, limit: int = MAX_TYPED) -> str:
    """One line of typed text: control, format, private-use and unassigned characters (but the
    emoji joiner) become spaces, runs of whitespace
    collapse, and the result is cut to ``limit`` characters (an ellipsis marks a cut).

    Memoised: a feed cleans the same site address and phone number for every event."""
    kept = "".join(" " if _dropped(ch) else ch for ch in text)
    single = " ".join(kept.split())
    if len(single) <= limit:
        return single
    return single[: limit - 1].rstrip() + "\u2026"
