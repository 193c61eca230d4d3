"""What a leaf covers: one stored event, exactly as stored (CONTRACTS §5)."""

from __future__ import annotations

import base64
import json
from uuid import UUID


def leaf_input(
    originator_id: UUID, originator_version: int, position: int, topic: str, state: bytes
) -> bytes:
    return json.dumps(
        {
            "originatorId": str(originator_id),
            "originatorVersion": originator_version,
            "position": position,
            "state": base64.b64encode(state).decode(),
            "topic": topic,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
