"""The OpenAPI document is a usable reference: every dialect tagged, with its operations."""

from __future__ import annotations

import pytest

OPERATIONS = {
    "native": "/v1/users/{user_id}/password",
    "lifepos": "/orgs/{org_guid}/me/set-credentials",
    "assure": "/api/core/ChangePassword/executeChangePassword",
    "kendox": "/InfoShare/Json/Authentication/SetPasswordWithToken",
    "horizon": "/api/v1/security/identity/local/password",
    "zitadel": "/v2/users/{user_id}/password",
}


@pytest.fixture(scope="module")
def document(sqlite_stack):
    with sqlite_stack.client() as client:
        reply = client.get("/openapi.json")
        assert reply.status_code == 200
        assert client.get("/docs").status_code == 200
        return reply.json()


@pytest.mark.parametrize("tag", list(OPERATIONS))
def test_every_dialect_is_tagged_with_its_operation_and_error_schemas(document, tag):
    operation = document["paths"][OPERATIONS[tag]]["post"]
    assert tag in operation["tags"]
    assert "requestBody" in operation
    assert any(code.startswith(("4", "5")) for code in operation["responses"])


def test_lifepos_documents_every_accepted_content_type(document):
    content = document["paths"][OPERATIONS["lifepos"]]["post"]["requestBody"]["content"]
    assert set(content) == {
        "application/json", "application/json-patch+json", "text/json", "application/*+json",
    }  # fmt: skip


def test_no_operation_documents_the_framework_validation_error(document):
    assert "HTTPValidationError" not in str(document)
    native = document["paths"][OPERATIONS["native"]]["post"]["responses"]
    assert "application/problem+json" in native["400"]["content"]
