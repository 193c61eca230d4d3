"""Common-password list, taken from the maintained `zxcvbn` package (30,000 entries).

It is the leaked-password frequency list zxcvbn itself ranks against; we only need membership.
"""

from __future__ import annotations

from functools import cache


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """Case-insensitive: `Password` is as guessable as `password`."""
    return password.casefold() in common_passwords()
