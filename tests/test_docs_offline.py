"""/docs and /redoc work without internet access: every asset they load comes from this server."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

# Attribute URLs (script src, stylesheet and icon href) and the document URL in the page's script.
REFERENCES = re.compile(r"""(?:src|href)="([^"]+)"|\burl:\s*'([^']+)'|spec-url="([^"]+)\"""")
ABSOLUTE = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}
# What each kind of asset must contain to be the real thing, not an empty placeholder.
MARKERS = {"swagger-ui-bundle.js": b"SwaggerUIBundle", "redoc.standalone.js": b"Redoc"}


@pytest.fixture(scope="module")
def client(sqlite_stack):
    with sqlite_stack.client() as test_client:
        yield test_client


def references(page: str) -> list[str]:
    return [next(filter(None, groups)) for groups in REFERENCES.findall(page)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page_names_no_url_outside_this_server(client, page):
    reply = client.get(page)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    base = str(reply.url)
    foreign = [
        url
        for url in ABSOLUTE.findall(reply.text) + references(reply.text)
        if urlsplit(urljoin(base, url)).netloc != urlsplit(base).netloc
    ]
    assert foreign == []
    assert len(references(reply.text)) >= 3  # the script, the icon, the document at least


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_page_answers_with_its_content_type(client, page):
    found = references(client.get(page).text)
    assert any(url.endswith(".js") for url in found)
    assert "/openapi.json" in found
    for url in found:
        reply = client.get(urljoin(f"http://testserver{page}", url))
        assert reply.status_code == 200, url
        suffix = "." + urlsplit(url).path.rsplit(".", 1)[-1]
        media = reply.headers["content-type"].split(";")[0]
        assert media in CONTENT_TYPES[suffix], (url, media)
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        assert MARKERS.get(name, b"") in reply.content
        assert len(reply.content) > 100, url


def test_swagger_ui_renders_openapi_3_1(client):
    """Swagger UI before 5 shows "Unable to render this definition" for a 3.1 document."""
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "isOAS31" in bundle  # the OpenAPI 3.1 support Swagger UI 5 brought


def test_swagger_ui_never_asks_an_online_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").text
