"""The platform registry: the shipped file, an association's overrides, broken files refused
with their line and key, host lookup on the bundled public-suffix list."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.takedown import RegistryError, Role, load_registry
from rempart.takedown.registry import (
    FACTS,
    _extractor,
    parse_registry,
    registrable_domain,
    shipped_registry_text,
)


def test_shipped_registry_loads_and_every_fact_names_its_https_source() -> None:
    registry = load_registry(None)
    for wanted in (
        "reddit",
        "x",
        "telegram",
        "discord",
        "google-search",
        "bing",
        "cloudflare",
        "meta",
        "tiktok",
        "imgur",
        "imgbb",
        "postimages",
        "catbox",
        "pharos",
        "point-de-contact",
        "ncmec",
    ):
        assert registry.get(wanted) is not None, wanted
    for platform in registry.platforms.values():
        assert platform.name and platform.roles
        for name, fact in platform.facts.items():
            assert name in FACTS
            assert fact.source.startswith("https://"), (platform.id, name)


def test_a_fact_nobody_confirmed_is_unknown_not_invented() -> None:
    imgbb = load_registry(None)["imgbb"]
    assert imgbb.fact("notice_email") is None
    assert imgbb.fact("response_time") is None


def test_host_lookup_matches_registered_domains_and_their_subdomains_only() -> None:
    registry = load_registry(None)
    assert registry.by_host("i.redd.it").id == "reddit"
    assert registry.by_host("WWW.Reddit.COM.").id == "reddit"
    assert registry.by_host("t.me").id == "telegram"
    assert registry.by_host("notreddit.com") is None
    assert registry.by_host("reddit.com.evil.example") is None
    assert registry.by_host("127.0.0.1") is None
    assert registry.by_host("i.redd.it", 8443).id == "reddit"  # a named platform, any port


def test_public_suffixes_come_from_the_bundled_list_never_fetched() -> None:
    extractor = _extractor()
    assert tuple(extractor.suffix_list_urls) == ()
    assert not extractor._cache.enabled  # nothing written to a cache folder
    assert registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert registrable_domain("forum.example.org") == "example.org"


def test_an_association_adds_a_platform_and_overrides_one_fact_of_a_shipped_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "platforms.toml").write_text(
        "[platform.leakforum]\n"
        'name = "Leak Forum"\n'
        'roles = ["host"]\n'
        'domains = ["leakforum.example"]\n'
        'notice_email = { value = "abuse@leakforum.example", '
        'source = "https://leakforum.example/contact", checked = 2026-11-02 }\n'
        'response_time = { value = "72h", source = "https://leakforum.example/contact" }\n'
        "\n"
        "[platform.imgbb]\n"
        'notice_email = { value = "abuse@imgbb.example", source = "https://imgbb.com/" }\n'
    )
    registry = load_registry(tmp_path)
    forum = registry.by_host("cdn.leakforum.example")
    assert forum is not None and forum.id == "leakforum"
    assert forum.fact("notice_email").checked.isoformat() == "2026-11-02"
    assert forum.origin == str(tmp_path / "platforms.toml")
    imgbb = registry["imgbb"]
    assert imgbb.fact("notice_email").value == "abuse@imgbb.example"
    assert imgbb.domains == ("imgbb.com", "ibb.co")  # kept from the shipped entry
    assert imgbb.roles == (Role.HOST,)


def test_no_home_file_means_the_shipped_registry(tmp_path: Path) -> None:
    assert set(load_registry(tmp_path).platforms) == set(load_registry(None).platforms)


def _refusal(tmp_path: Path, text: str) -> RegistryError:
    (tmp_path / "platforms.toml").write_text(text)
    with pytest.raises(RegistryError) as caught:
        load_registry(tmp_path)
    return caught.value


def test_a_file_that_is_not_toml_is_refused_with_its_line(tmp_path: Path) -> None:
    error = _refusal(tmp_path, '[platform.a]\nname = "A"\nroles = ["host"\n')
    assert "line 3" in str(error) or "line 4" in str(error)
    assert str(tmp_path / "platforms.toml") in str(error)
    assert "ligne" in error.localized("fr")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('schema = 1\n\n[platform.a]\nname = "A"\nroles = ["host"]\nfax = "1"\n', 6, "fax"),
        ('[platform.a]\nname = "A"\nroles = ["shop"]\n', 3, "roles"),
        ('[platform.a]\nname = "A"\nroles = ["host"]\ndomains = ["co.uk"]\n', 4, "domains"),
        ('[platform.a]\nname = "A"\nroles = ["host"]\ndomains = ["not a domain"]\n', 4, "domains"),
        (
            '[platform.a]\nname = "A"\nroles = ["host"]\n'
            'notice_email = { value = "abuse@a.example" }\n',
            4,
            "notice_email",
        ),
        (
            '[platform.a]\nname = "A"\nroles = ["host"]\n'
            'notice_email = { value = "not an email", source = "https://a.example/" }\n',
            4,
            "notice_email",
        ),
        (
            '[platform.a]\nname = "A"\nroles = ["host"]\n'
            'ncii_form = { value = "http://a.example/form", source = "https://a.example/" }\n',
            4,
            "ncii_form",
        ),
        (
            '[platform.a]\nname = "A"\nroles = ["host"]\n\n[platform.a.detect]\n'
            'source = "https://a.example/"\nranges = ["300.0.0.0/8"]\n',
            5,
            "detect",
        ),
        ('# comment\n[platform.new]\nroles = ["host"]\n', 2, "name"),
        ('[platform."Bad Id"]\nname = "A"\nroles = ["host"]\n', 1, ""),
    ],
)
def test_a_wrong_entry_is_refused_naming_its_line_and_key(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    error = _refusal(tmp_path, text)
    assert f"line {line}:" in str(error), str(error)
    assert f"key {key!r}" in str(error)


def test_two_platforms_of_one_file_cannot_claim_the_same_domain() -> None:
    text = (
        '[platform.a]\nname = "A"\nroles = ["host"]\ndomains = ["same.example"]\n'
        '[platform.b]\nname = "B"\nroles = ["host"]\ndomains = ["same.example"]\n'
    )
    with pytest.raises(RegistryError, match=r"line 8.*already claimed"):
        parse_registry(text)


def test_the_shipped_file_parses_on_its_own() -> None:
    platforms = parse_registry(shipped_registry_text(), origin="shipped")
    cloudflare = platforms["cloudflare"]
    assert cloudflare.detect is not None
    assert cloudflare.detect.matches_cname("x.example.net.cdn.cloudflare.net.")
    assert cloudflare.detect.matches_headers({"Server": "cloudflare"})
    assert not cloudflare.detect.matches_headers({"Server": "nginx"})
    assert cloudflare.detect.matches_address("104.16.0.1")
    assert not cloudflare.detect.matches_address("192.0.2.1")


def test_the_example_in_the_documentation_loads(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "takedown.md"
    text = docs.read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "platforms.toml").write_text(example)
    registry = load_registry(tmp_path)
    assert registry.by_host("img.leakforum-cdn.example").id == "leakforum"
    assert registry["imgbb"].fact("notice_email").checked.isoformat() == "2026-11-20"
    assert registry["smallcdn"].detect.matches_headers({"X-SmallCDN-Id": "1"})
