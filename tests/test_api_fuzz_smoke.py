"""A short, deterministic schemathesis run over every operation, in process.

Each generated request goes through the real app as the instance admin; its answer must be
documented for that operation (status, media type, headers, body schema), must not be a 5xx,
and must follow schemathesis's other default checks under the project's schemathesis.toml.
The long run with every phase is `./scripts/fuzz-api` (bench/fuzz_results.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api_helpers import admin_headers

CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"
EXAMPLES = 8  # per operation: the suite stays fast; the fuzz script goes wide


@pytest.fixture(scope="module")
def client(sqlite_stack):
    with sqlite_stack.client() as test_client:
        yield test_client


def test_every_operation_answers_as_documented(client):
    config = schemathesis.Config.from_path(CONFIG)
    api = schemathesis.openapi.from_asgi("/openapi.json", client.app, config=config)
    tested = []
    for result in api.get_all_operations():
        operation = result.ok()
        # A fresh admin session per operation: a fuzzed logout cannot blind the ones after.
        fuzz(operation, admin_headers(client))
        tested.append(operation.label)
    documented = client.get("/openapi.json").json()["paths"]
    assert len(tested) == sum(len(item) for item in documented.values())


def fuzz(operation: Any, auth: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth)

    answers_as_documented()
