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


# --- every answer an operation can give is in the document ---

import json  # noqa: E402
import uuid  # noqa: E402

from openapi_schema_validator import OAS31Validator  # noqa: E402
from openapi_spec_validator import OpenAPIV31SpecValidator  # noqa: E402

from api import app as app_module  # noqa: E402
from api import assure, horizon, kendox, lifepos, zitadel, zitadel_connect  # noqa: E402
from api.limits import MAX_BODY_BYTES  # noqa: E402
from api.problems import catalogue  # noqa: E402
from tests.api_helpers import admin_headers  # noqa: E402

DIALECTS = [app_module.NATIVE, lifepos.DIALECT, assure.DIALECT, kendox.DIALECT,
            horizon.DIALECT, zitadel.DIALECT, zitadel_connect.DIALECT]  # fmt: skip
METHODS = ("get", "put", "post", "delete", "patch")
# The contract's error statuses per dialect (CONTRACTS §2, §3), plus 405 for a wrong method
# and, on the native API, 413 for an oversized body.
CONTRACT_STATUSES = {
    "native": {400, 401, 403, 404, 405, 409, 413, 423, 429, 500, 503},
    "lifepos": {401, 403, 404, 405, 422, 429, 500},
    "assure": {400, 401, 403, 404, 405, 429, 500},
    "kendox": {400, 404, 405, 429, 500},
    "horizon": {400, 401, 403, 404, 405, 429, 500},
    "zitadel": {400, 401, 403, 404, 405, 409, 429, 500, 503},
}


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def an_operation_of(document, dialect):
    return next(
        (path, method, operation)
        for path, method, operation in operations(document)
        if any(path == p or path.startswith(p + "/") for p in dialect.prefixes)
    )


def media(reply):
    return reply.headers.get("content-type", "").split(";")[0].strip()


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(document).validate()


@pytest.mark.parametrize("tag", list(OPERATIONS))
def test_each_dialect_documents_the_statuses_of_its_contract(document, tag):
    responses = document["paths"][OPERATIONS[tag]]["post"]["responses"]
    errors = {int(status) for status in responses if int(status) >= 400}
    assert errors == CONTRACT_STATUSES[tag]


def test_error_media_types_are_the_dialects_own(document):
    native = document["paths"][OPERATIONS["native"]]["post"]["responses"]
    assert set(native["413"]["content"]) == {"application/problem+json"}
    horizon_ = document["paths"][OPERATIONS["horizon"]]["post"]["responses"]
    assert all(set(horizon_[s]["content"]) == {"application/problem+json"}
               for s in horizon_ if s >= "400")  # fmt: skip
    lifepos_ = document["paths"][OPERATIONS["lifepos"]]["post"]["responses"]["422"]
    assert lifepos_["content"]["application/json"]["schema"]["$ref"].endswith("/LifeposError")


def test_retry_after_and_allow_headers_are_documented(document):
    native = document["paths"][OPERATIONS["native"]]["post"]["responses"]
    assert "Retry-After" in native["503"]["headers"]  # overloaded
    assert "Retry-After" in native["429"]["headers"]  # rate limited
    zitadel_ = document["paths"][OPERATIONS["zitadel"]]["post"]["responses"]
    assert "Retry-After" in zitadel_["429"]["headers"]
    for path, method, operation in operations(document):
        assert "Allow" in operation["responses"]["405"]["headers"], (method, path)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_every_error_body_matches_its_documented_schema(document, dialect):
    path, method, operation = an_operation_of(document, dialect)
    for problem in catalogue():
        reply = dialect.render(problem)
        documented = operation["responses"][str(reply.status_code)]
        entry = documented["content"][media(reply)]
        OAS31Validator({**entry["schema"], "components": document["components"]}).validate(
            json.loads(reply.body)
        )
        for header in problem.headers:
            assert header in documented["headers"], (problem.code, header)


@pytest.fixture(scope="module")
def probes(sqlite_stack, document):
    """Real answers of every operation to requests that go wrong in the usual ways."""
    answers = []
    with sqlite_stack.client() as client:
        auth = admin_headers(client)
        for path, method, operation in operations(document):
            url = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    url = url.replace("{" + parameter["name"] + "}", str(uuid.uuid4()))
            json_type = {"content-type": "application/json"}
            for headers, body in (
                ({}, None),  # no credentials, no body
                (auth, b"{}"),  # as the admin, an empty object
                ({**auth, **json_type}, b'{"truncated'),  # malformed JSON
                (json_type, b"x" * (MAX_BODY_BYTES + 1)),  # over the body limit
            ):
                reply = client.request(method.upper(), url, content=body, headers=headers)
                answers.append((path, method, reply))
    return answers


def test_every_real_answer_is_documented_for_its_operation(document, probes):
    seen = set()
    for path, method, reply in probes:
        responses = document["paths"][path][method]["responses"]
        status = str(reply.status_code)
        assert status in responses, (method, path, status, reply.text[:200])
        if reply.content:
            assert media(reply) in responses[status].get("content", {}), (method, path, status)
        seen.add(reply.status_code)
    assert {200, 400, 401, 413, 422} <= seen  # the probes reached more than one answer


def test_an_oversized_body_is_413_on_every_native_operation(probes):
    too_large = str(MAX_BODY_BYTES + 1)
    native = [
        reply
        for path, _, reply in probes
        if path.startswith("/v1/") and path not in app_module.LARGER_BODIES  # e.g. an import
    ]
    oversized = [r for r in native if r.request.headers.get("content-length") == too_large]
    assert oversized and all(r.status_code == 413 for r in oversized)


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS"])
def test_a_wrong_method_names_every_documented_method_of_the_path(sqlite_stack, document, method):
    with sqlite_stack.client() as client:
        for path, item in document["paths"].items():
            if method.lower() in item:
                continue
            url = path.replace("{", "").replace("}", "")
            for name in ("user_id", "org_id"):
                url = url.replace(name, str(uuid.uuid4()))
            reply = client.request(method, url)
            assert reply.status_code == 405, (method, path)
            allowed = sorted(m.upper() for m in item if m in METHODS)
            assert reply.headers["allow"].split(", ") == allowed, path


@pytest.mark.parametrize(
    "url", ["/v1/ledger/leaves?start={n}", "/v1/events?after={n}",
            "/v1/ledger/proof/consistency?from=0&to={n}"]
)  # fmt: skip
def test_positions_beyond_64_bits_are_invalid_not_a_server_error(sqlite_stack, url):
    with sqlite_stack.client() as client:
        reply = client.get(url.format(n=2**64), headers=admin_headers(client))
    assert reply.status_code == 400
    assert reply.json()["code"] == "invalid_request"
