"""Reset links against allowed prefixes, compared as parsed URLs (domain.reset_links)."""

from __future__ import annotations

import pytest

from domain.errors import InvalidArgument
from domain.reset_links import is_allowed, parse_prefix

PREFIXES = (parse_prefix("https://good.example/ui"), parse_prefix("http://[::1]:8080/"))


@pytest.mark.parametrize(
    "link",
    [
        "https://good.example/ui/",
        "https://good.example/ui",
        "https://GOOD.EXAMPLE/ui/reset?token=%LoginToken%",
        "https://good.example./ui/reset",  # the fully qualified spelling of the same host
        "https://good.example:443/ui/reset#top",
        "http://[::1]:8080/anything?c={{.Code}}",
    ],
)
def test_links_below_a_prefix_are_allowed(link):
    assert is_allowed(link, PREFIXES)


@pytest.mark.parametrize(
    "link",
    [
        "https://good.example/uix",
        "https://good.example/",
        "https://good.example.evil.example/ui/",
        "https://evil.example/good.example/ui/",
        "https://good.example:8443/ui/",
        "http://good.example/ui/",
        "http://[::1]/",  # default port 80, not 8080
        "https://user@good.example/ui/",
        "https://good.example/ui/./../admin",
        "https://good.example/ui/%2E%2e/admin",
        "https://good.example/ui/\treset",
        "https://good.example:99999/ui/",
        "/ui/reset",
        "",
    ],
)
def test_links_elsewhere_are_refused(link):
    assert not is_allowed(link, PREFIXES)


def test_an_empty_list_allows_nothing():
    assert not is_allowed("https://good.example/ui/", ())


@pytest.mark.parametrize(
    "prefix",
    ["good.example/ui", "mailto:a@good.example", "https:///ui", "https://good.example/ui?x=1",
     "https://good.example/ui#x", "https://a:b@good.example/", "https://good.example/%75i/"],
)  # fmt: skip
def test_unusable_prefixes_are_refused_with_their_field(prefix):
    with pytest.raises(InvalidArgument) as refused:
        parse_prefix(prefix)
    assert refused.value.field == "resetUrlPrefixes"
