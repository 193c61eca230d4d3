"""The leaf input is exactly the contract's `json.dumps(..., sort_keys=True,
separators=(",", ":"))`, whatever the topic, state or numbers."""

from __future__ import annotations

import os
import uuid

import pytest

from ledger.leaf import leaf_input, leaf_input_by_the_contract

TOPICS = [
    "domain.user:User.PasswordChanged",
    'quote"and\\backslash',
    "tab\tnew\nline",
    "unicode é ✓ 𝄞",
    "",
]


@pytest.mark.parametrize("topic", TOPICS)
def test_the_fast_encoding_is_byte_identical_to_the_contracts_json(topic):
    for size in (0, 1, 2, 3, 57, 300):
        originator = uuid.uuid4()
        state = os.urandom(size)
        for version, position in ((1, 1), (2**31, 2**53), (7, 123456789012)):
            assert leaf_input(originator, version, position, topic, state) == (
                leaf_input_by_the_contract(originator, version, position, topic, state)
            )
