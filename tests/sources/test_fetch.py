"""The guarded client against real servers on 127.0.0.1: what it refuses, how it bounds
size and time, how it retries, revalidates, sends cookies and goes through proxies."""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import brotli
import pytest
import trustme

from rempart.errors import RempartError
from rempart.fetch import (
    Fetcher,
    FetchError,
    FetchFailure,
    FetchPolicy,
    load_cookies_txt,
    site_key,
    sniff_type,
)
from rempart.samples import neutral_image, web_jpeg
from rempart.sources.base import Validators

if TYPE_CHECKING:
    from conftest import LoopbackSite
    from rempart.fetch import Resolver

    SiteFactory = Callable[[str], LoopbackSite]
    FetcherFactory = Callable[..., Fetcher]

JPEG = web_jpeg(1, 64, 48)


def _fails(reason: FetchFailure, call: Callable[[], object]) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()
    assert caught.value.reason is reason, caught.value
    return caught.value


# ---------------------------------------------------------------------------- plain fetches


def test_fetch_returns_the_body_with_sniffed_and_declared_types(
    site: LoopbackSite, fetcher: Fetcher
) -> None:
    url = site.route("/photo", JPEG, headers={"Content-Type": "text/plain"})

    result = fetcher.fetch(url)

    assert (result.status, result.body, result.final_url) == (200, JPEG, url)
    assert result.sniffed_type == "image/jpeg"
    assert result.declared_type == "text/plain"
    assert result.content_type == "image/jpeg"
    assert result.headers["content-type"] == "text/plain"


def test_user_agent_names_rempart_its_version_and_the_contact_url(
    site: LoopbackSite, fetcher: Fetcher
) -> None:
    fetcher.fetch(site.route("/", b"ok"))

    agent = site.seen[0].headers["user-agent"]
    assert agent.startswith("Rempart/") and agent.endswith("(+https://rempart.test/contact)")


def test_a_request_carries_the_fetchers_headers_and_the_callers(
    site: LoopbackSite, fetcher: Fetcher
) -> None:
    fetcher.fetch(site.route("/", b"ok"), accept="text/html", referer=site.url("/from"))
    fetcher.fetch(site.url("/"))

    first, second = (seen.headers for seen in site.seen)
    assert first["accept"] == "text/html" and first["referer"] == site.url("/from")
    assert second["accept"] == "*/*" and "referer" not in second
    for sent in (first, second):
        assert sent["accept-encoding"].startswith("gzip, deflate")
        assert sent["connection"] == "keep-alive" and sent["user-agent"].startswith("Rempart/")
        assert sent["host"] == site.url("/").split("/")[2]
        assert "cookie" not in sent


def test_http_error_status_raises_with_the_status(site: LoopbackSite, fetcher: Fetcher) -> None:
    error = _fails(FetchFailure.HTTP_STATUS, lambda: fetcher.fetch(site.url("/missing")))

    assert error.status == 404 and not error.transient
    assert isinstance(error, RempartError)


# ------------------------------------------------------------------------------- SSRF guard


@pytest.fixture
def unallowed(resolver: Resolver) -> Iterator[Fetcher]:
    """A fetcher with the default guard (no network allowed), any port, *.test on loopback."""
    fetcher = Fetcher(FetchPolicy(any_port=True), resolver=resolver)
    yield fetcher
    fetcher.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://localhost:{port}/",
        "http://2130706433:{port}/",  # 127.0.0.1 written as one number
        "http://rebound.test:{port}/",  # a name resolving to 127.0.0.1
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
    ],
)
def test_non_public_addresses_are_refused_before_any_connection(
    site: LoopbackSite, unallowed: Fetcher, url: str
) -> None:
    site.route("/", b"secret")

    error = _fails(
        FetchFailure.REFUSED_ADDRESS, lambda: unallowed.fetch(url.format(port=site.port))
    )

    assert site.seen == []
    assert not error.transient


@pytest.mark.parametrize("port", [22, 25, 6379])
@pytest.mark.parametrize("host", ["93.184.215.14", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"])
def test_allowing_a_loopback_network_opens_no_port_on_public_addresses(
    host: str, port: int
) -> None:
    """`--allow-network 127.0.0.1/32` sets any_port: it holds on loopback, not on the web."""

    def never(host: str, port: int) -> list[str]:
        raise AssertionError("no name to resolve")

    policy = FetchPolicy(allow_networks=("127.0.0.1/32",), any_port=True)
    with Fetcher(policy, resolver=never) as fetcher:
        error = _fails(FetchFailure.REFUSED_PORT, lambda: fetcher.fetch(f"http://{host}:{port}/"))
    assert str(port) in (error.detail or "")


@pytest.mark.parametrize("port", [22, 25, 6379])
def test_a_name_resolving_to_a_public_address_gets_no_port_from_any_port(port: int) -> None:
    asked: list[tuple[str, int]] = []

    def public(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.215.14"]

    policy = FetchPolicy(allow_networks=("127.0.0.1/32",), any_port=True)
    with Fetcher(policy, resolver=public) as fetcher:
        _fails(FetchFailure.REFUSED_PORT, lambda: fetcher.fetch(f"http://mail.example:{port}/"))
    assert asked == [("mail.example", port)]  # judged on its address, never connected


def test_any_port_still_holds_on_the_allowed_network(
    site: LoopbackSite, resolver: Resolver
) -> None:
    site.route("/", b"local")
    policy = FetchPolicy(allow_networks=("127.0.0.1/32",), any_port=True)

    with Fetcher(policy, resolver=resolver) as fetcher:
        assert fetcher.fetch(site.url("/")).body == b"local"


def test_a_name_with_one_public_and_one_private_address_is_refused(site: LoopbackSite) -> None:
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.1"]

    with Fetcher(FetchPolicy(any_port=True), resolver=mixed) as fetcher:
        _fails(FetchFailure.REFUSED_ADDRESS, lambda: fetcher.fetch(site.url("/")))


def test_the_connection_goes_to_the_address_checked_with_the_name_kept_in_host(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding resolver's two answers
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    fetcher = make_fetcher({"resolver": rebinding})
    result = fetcher.fetch(site.route("/", b"hello"))

    assert result.body == b"hello"
    assert calls == ["site.test"]  # resolved once, then connected to that very address
    assert site.seen[0].headers["host"] == f"site.test:{site.port}"


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/", "http://10.1.2.3/"],
)
def test_a_redirect_from_an_allowed_host_to_a_refused_one_is_refused(
    site: LoopbackSite, fetcher: Fetcher, target: str
) -> None:
    location = target.format(port=site.port)
    site.route("/go", status=302, headers={"Location": location})

    error = _fails(FetchFailure.REFUSED_ADDRESS, lambda: fetcher.fetch(site.url("/go")))

    assert error.url == location
    assert [s.path for s in site.seen] == ["/go"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://site.test/file", FetchFailure.BAD_URL),
        ("file:///etc/passwd", FetchFailure.BAD_URL),
        ("javascript:alert(1)", FetchFailure.BAD_URL),
        ("http://user:password@site.test/", FetchFailure.BAD_URL),
        ("http://site.test:22/", FetchFailure.REFUSED_PORT),
        ("http://site.test/" + "a" * 5000, FetchFailure.BAD_URL),
    ],
)
def test_bad_schemes_credentials_odd_ports_and_huge_urls_are_refused(
    url: str, reason: FetchFailure, resolver: Resolver
) -> None:
    with Fetcher(FetchPolicy(allow_networks=("127.0.0.1/32",)), resolver=resolver) as f:
        _fails(reason, lambda: f.fetch(url))


def test_https_to_the_pinned_address_still_sends_the_name_and_verifies_the_certificate(
    make_fetcher: FetcherFactory,
) -> None:
    authority = trustme.CA()
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    fetcher = make_fetcher({"ssl_context": trust})
    with _https_server(authority.issue_cert("tls.test")) as (port, names):
        result = fetcher.fetch(f"https://tls.test:{port}/")
        error = _fails(FetchFailure.CONNECT, lambda: fetcher.fetch(f"https://other.test:{port}/"))

    assert result.body == b"over tls"
    assert names == ["tls.test", "other.test"]  # SNI carries the name, not the address
    assert "certificate" in error.detail.lower()


# ---------------------------------------------------------------------------------- limits


def test_a_declared_length_over_the_cap_is_refused_without_reading(
    site: LoopbackSite, fetcher: Fetcher
) -> None:
    url = site.route("/big", b"x" * 300_000)

    _fails(FetchFailure.TOO_LARGE, lambda: fetcher.fetch(url, max_bytes=100_000))


def test_an_undeclared_body_is_cut_off_past_the_cap(site: LoopbackSite, fetcher: Fetcher) -> None:
    url = site.route("/stream", b"x" * 300_000, length=False)

    _fails(FetchFailure.TOO_LARGE, lambda: fetcher.fetch(url, max_bytes=100_000))
    assert fetcher.fetch(url, max_bytes=400_000).body == b"x" * 300_000


def test_a_body_trickling_one_byte_at_a_time_hits_the_total_deadline(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    fetcher = make_fetcher(total_timeout_s=0.8, read_timeout_s=5.0)
    url = site.route("/slow", b"x" * 300, trickle_s=0.1)  # 30 s to send it all

    started = time.monotonic()
    error = _fails(FetchFailure.TIMEOUT, lambda: fetcher.fetch(url))

    assert time.monotonic() - started < 10.0  # cut by the deadline, long before the end
    assert error.transient


def test_headers_trickling_one_byte_at_a_time_hit_the_total_deadline(
    make_fetcher: FetcherFactory,
) -> None:
    fetcher = make_fetcher(total_timeout_s=0.8, read_timeout_s=5.0)
    with _raw_server(_trickle_headers) as port:
        started = time.monotonic()
        _fails(FetchFailure.TIMEOUT, lambda: fetcher.fetch(f"http://slow.test:{port}/"))
    assert time.monotonic() - started < 10.0  # cut by the deadline: the headers take 30 s


def _trickle_headers(conn: socket.socket) -> None:
    conn.recv(65536)
    for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 300:
        conn.sendall(bytes([byte]))
        time.sleep(0.1)


def test_a_silent_server_hits_the_read_timeout(make_fetcher: FetcherFactory) -> None:
    fetcher = make_fetcher(read_timeout_s=0.3, total_timeout_s=5.0)
    with _raw_server(lambda conn: time.sleep(30)) as port:
        started = time.monotonic()
        _fails(FetchFailure.TIMEOUT, lambda: fetcher.fetch(f"http://silent.test:{port}/"))
    assert time.monotonic() - started < 10.0  # the read timeout, not the server, ended it


def test_a_redirect_loop_is_detected(site: LoopbackSite, fetcher: Fetcher) -> None:
    site.route("/a", status=302, headers={"Location": "/b"})
    site.route("/b", status=301, headers={"Location": site.url("/a")})

    _fails(FetchFailure.REDIRECT_LOOP, lambda: fetcher.fetch(site.url("/a")))
    assert [s.path for s in site.seen] == ["/a", "/b"]


def test_an_endless_redirect_chain_stops_at_the_limit(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    fetcher = make_fetcher(max_redirects=3)
    site.fallback = lambda seen: site.reply(status=307, headers={"Location": seen.path + "x"})

    _fails(FetchFailure.TOO_MANY_REDIRECTS, lambda: fetcher.fetch(site.url("/r")))
    assert len(site.seen) == 4


def test_redirects_are_followed_and_reported(site: LoopbackSite, fetcher: Fetcher) -> None:
    site.route("/old", status=301, headers={"Location": "/new"})
    site.route("/new", b"moved")

    result = fetcher.fetch(site.url("/old"))

    assert (result.body, result.final_url) == (b"moved", site.url("/new"))
    assert result.redirects == (site.url("/old"),)


def _bomb(encoding: str) -> bytes:
    zeros = b"\0" * 5_000_000
    if encoding == "gzip":
        return gzip.compress(zeros, compresslevel=9)
    if encoding == "deflate":
        return zlib.compress(zeros, 9)
    return bytes(brotli.compress(zeros, quality=4))


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_compression_bomb_is_refused_once_decoded_bytes_pass_the_cap(
    site: LoopbackSite, fetcher: Fetcher, encoding: str
) -> None:
    bomb = _bomb(encoding)
    url = site.route("/bomb", bomb, headers={"Content-Encoding": encoding})
    assert len(bomb) < 100_000

    error = _fails(FetchFailure.TOO_LARGE, lambda: fetcher.fetch(url, max_bytes=1_000_000))
    assert "decoded" in error.detail


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compressed_bodies_come_back_decoded(
    site: LoopbackSite, fetcher: Fetcher, encoding: str
) -> None:
    page = b"<html><body>" + b"hello " * 1000 + b"</body></html>"
    packed = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[encoding]
    url = site.route("/page", packed(page), headers={"Content-Encoding": encoding})

    result = fetcher.fetch(url)

    assert result.body == page
    assert result.sniffed_type == "text/html"


def test_a_corrupt_compressed_body_is_a_decoding_failure(
    site: LoopbackSite, fetcher: Fetcher
) -> None:
    url = site.route("/bad", b"not gzip at all", headers={"Content-Encoding": "gzip"})

    _fails(FetchFailure.DECODING, lambda: fetcher.fetch(url))


# -------------------------------------------------------------------------------- sniffing


def _encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    neutral_image(3, 32, 24).save(buffer, fmt)
    return buffer.getvalue()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands + b"\0" * 16


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "image/jpeg"),
        (_encoded("PNG"), "image/png"),
        (_encoded("GIF"), "image/gif"),
        (_encoded("WEBP"), "image/webp"),
        (_encoded("BMP"), "image/bmp"),
        (_encoded("TIFF"), "image/tiff"),
        (_ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
        (_ftyp(b"avif", b"mif1", b"avif"), "image/avif"),
        (_ftyp(b"isom", b"isom", b"mp41"), "video/mp4"),
        (_ftyp(b"qt  ", b"qt  "), "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html><body>hi", "text/html"),
        (b"\n<html lang=en>", "text/html"),
        (b"<div>fragment</div>", "text/html"),
        (b"just some text", None),
        (b"<htmlish", None),
        (b"\x00\x01\x02garbage", None),
        (b"", None),
    ],
)
def test_sniffing_reads_the_type_from_the_first_bytes(data: bytes, kind: str | None) -> None:
    assert sniff_type(data) == kind


# ------------------------------------------------------------------- retries and politeness


def test_429_is_retried_after_the_time_the_server_asks(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    sleeps: list[float] = []
    fetcher = make_fetcher({"sleep": sleeps.append})
    answers = iter([site.reply(status=429, headers={"Retry-After": "2"}), site.reply(b"finally")])
    url = site.route("/busy", lambda seen: next(answers))

    assert fetcher.fetch(url).body == b"finally"
    assert sleeps == [2.0]
    assert site.hits("/busy") == 2


def test_a_retry_after_beyond_the_policy_gives_up_at_once(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    sleeps: list[float] = []
    fetcher = make_fetcher({"sleep": sleeps.append}, max_retry_after_s=30.0)
    url = site.route("/busy", status=429, headers={"Retry-After": "3600"})

    error = _fails(FetchFailure.HTTP_STATUS, lambda: fetcher.fetch(url))

    assert (error.status, error.transient, sleeps, site.hits("/busy")) == (429, True, [], 1)


def test_503_without_retry_after_backs_off_exponentially_then_fails(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    sleeps: list[float] = []
    fetcher = make_fetcher({"sleep": sleeps.append}, max_retries=2, backoff_s=0.5)
    url = site.route("/down", status=503)

    error = _fails(FetchFailure.HTTP_STATUS, lambda: fetcher.fetch(url))

    assert error.status == 503 and sleeps == [0.5, 1.0] and site.hits("/down") == 3


def test_no_more_than_the_per_host_limit_is_in_flight_at_once(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    fetcher = make_fetcher(per_host_concurrency=2)
    url = site.route("/slowish", b"ok", delay_s=0.1)

    threads = [threading.Thread(target=fetcher.fetch, args=(url,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert site.hits("/slowish") == 6
    assert site.most_in_flight == 2


def test_requests_to_one_host_are_spaced_by_the_minimum_interval(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    fetcher = make_fetcher(per_host_interval_s=0.1)
    url = site.route("/", b"ok")

    for _ in range(4):
        fetcher.fetch(url)

    times = [s.at for s in site.seen]
    assert all(later - earlier >= 0.07 for earlier, later in itertools.pairwise(times))


def test_two_sites_on_one_address_are_two_hosts_for_politeness(
    make_site: SiteFactory, make_fetcher: FetcherFactory
) -> None:
    first, second = make_site("127.0.0.1"), make_site("127.0.0.1")  # one address, two ports
    sleeps: list[float] = []
    fetcher = make_fetcher({"sleep": sleeps.append, "clock": lambda: 100.0}, per_host_interval_s=5)

    fetcher.fetch(first.route("/", b"a"))
    fetcher.fetch(second.route("/", b"b"))
    assert sleeps == []  # the second port is another site: no wait behind the first

    fetcher.fetch(first.url("/"))
    assert sleeps == [5.0]  # the first site again: its interval is kept


def test_a_site_key_is_the_host_with_the_port_it_is_given() -> None:
    assert site_key("Forum.Example.", None) == "forum.example"
    assert site_key("127.0.0.1", 8402) == "127.0.0.1:8402"
    assert site_key("::1", 8402) == "[::1]:8402"


# ----------------------------------------------------------------- conditional requests


def test_a_conditional_get_of_an_unchanged_page_comes_back_not_modified(
    site: LoopbackSite, fetcher: Fetcher
) -> None:
    headers = {"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
    url = site.route("/page", b"<html>page</html>", headers=headers)

    first = fetcher.fetch(url)
    second = fetcher.fetch(url, validators=first.validators)

    assert first.validators == Validators('"v1"', "Mon, 01 Jan 2024 00:00:00 GMT")
    assert second.not_modified and second.body == b""
    assert second.validators == first.validators
    assert site.seen[1].headers["if-none-match"] == '"v1"'
    assert site.seen[1].headers["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


# ---------------------------------------------------------------------------------- cookies


def test_cookies_go_only_to_the_site_they_belong_to(
    make_site: SiteFactory, make_fetcher: FetcherFactory
) -> None:
    forum, other = make_site("forum.test"), make_site("other.test")
    forum.route("/members", b"hi", headers={})
    forum.route("/away", status=302, headers={"Location": other.url("/landing")})
    other.route("/landing", b"elsewhere")
    fetcher = make_fetcher({"cookies": {"forum.test": {"session": "s3cret"}}})

    fetcher.fetch(forum.url("/members"))
    fetcher.fetch(forum.url("/away"))

    assert [s.headers.get("cookie") for s in forum.seen] == ["session=s3cret"] * 2
    assert [s.headers.get("cookie") for s in other.seen] == [None]


def test_a_cookie_a_site_sets_goes_back_to_that_site_only(
    make_site: SiteFactory, make_fetcher: FetcherFactory
) -> None:
    forum, other = make_site("forum.test"), make_site("other.test")
    forum.route("/members", b"hi", headers={})
    forum.route("/login", b"welcome", headers={"Set-Cookie": "visit=1; Path=/"})
    other.route("/", b"elsewhere")
    fetcher = make_fetcher()

    for url in (forum.url("/members"), forum.url("/login"), forum.url("/members")):
        fetcher.fetch(url)
    fetcher.fetch(other.url("/"))

    assert [s.headers.get("cookie") for s in forum.seen] == [None, None, "visit=1"]
    assert [s.headers.get("cookie") for s in other.seen] == [None]


def test_a_netscape_cookies_file_is_loaded_for_its_site(
    make_site: SiteFactory, make_fetcher: FetcherFactory, tmp_path: Path
) -> None:
    forum, other = make_site("forum.test"), make_site("evilforum.test")
    for site in (forum, other):
        site.route("/", b"ok")
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        "forum.test\tFALSE\t/\tFALSE\t0\txf_user\t42-token\n"
        ".forum.test\tTRUE\t/\tFALSE\t0\txf_theme\tdark\n"
    )
    fetcher = make_fetcher({"cookies": load_cookies_txt(cookies)})

    fetcher.fetch(forum.url("/"))
    fetcher.fetch(other.url("/"))

    sent = forum.seen[0].headers.get("cookie", "")
    assert sorted(sent.split("; ")) == ["xf_theme=dark", "xf_user=42-token"]
    assert "cookie" not in other.seen[0].headers


# ---------------------------------------------------------------------------------- proxies


def test_an_http_proxy_carries_the_requests(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    site.route("/", b"direct")
    with _http_proxy() as (port, asked):
        fetcher = make_fetcher({"proxy": f"http://127.0.0.1:{port}"})
        result = fetcher.fetch(site.url("/"))

    assert result.body == b"via proxy"
    assert asked == [site.url("/")]
    assert site.seen == []


def test_behind_a_proxy_refused_addresses_are_still_refused(resolver: Resolver) -> None:
    """The proxy itself is the operator's choice (here on loopback); targets are still judged."""
    with _http_proxy() as (port, asked):
        policy = FetchPolicy(any_port=True, allowed_ports=frozenset({80, 443, 8080}))
        with Fetcher(policy, proxy=f"http://127.0.0.1:{port}", resolver=resolver) as fetcher:
            _fails(FetchFailure.REFUSED_ADDRESS, lambda: fetcher.fetch("http://10.0.0.1/"))
            _fails(FetchFailure.REFUSED_ADDRESS, lambda: fetcher.fetch("http://rebound.test/"))
            assert fetcher.fetch("http://public.example:8080/").body == b"via proxy"
    assert asked == ["http://public.example:8080/"]


def test_a_socks5_proxy_carries_the_requests_and_resolves_names_itself(
    site: LoopbackSite, make_fetcher: FetcherFactory
) -> None:
    site.route("/a.jpg", JPEG)
    with _socks5_proxy() as (port, targets):
        fetcher = make_fetcher({"proxy": f"socks5://127.0.0.1:{port}"})
        result = fetcher.fetch(site.url("/a.jpg"))

    assert result.body == JPEG
    assert targets == [("site.test", site.port)]
    assert site.seen[0].headers["host"] == f"site.test:{site.port}"


def test_an_unreachable_proxy_is_a_proxy_or_connection_failure(
    make_fetcher: FetcherFactory,
) -> None:
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    unused.close()
    fetcher = make_fetcher({"proxy": f"socks5://127.0.0.1:{port}"})

    with pytest.raises(FetchError) as caught:
        fetcher.fetch("http://site.test:8080/")
    assert caught.value.reason in {FetchFailure.PROXY, FetchFailure.CONNECT}


# ------------------------------------------------------------------ small servers for tests


class _Server:
    """A bare TCP server on 127.0.0.1 running `serve(conn)` for each connection."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self._serve = serve
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self._serve(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()


class _raw_server:  # noqa: N801  (used as a context manager, like a function)
    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self._server = _Server(serve)

    def __enter__(self) -> int:
        return int(self._server.port)

    def __exit__(self, *_: object) -> None:
        self._server.close()


class _http_proxy:  # noqa: N801
    """A forward proxy that answers every request itself and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        asked = self.asked

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "9")
                self.end_headers()
                self.wfile.write(b"via proxy")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def __enter__(self) -> tuple[int, list[str]]:
        return int(self._server.server_address[1]), self.asked

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _https_server:  # noqa: N801
    """An HTTPS server on 127.0.0.1 with the given certificate, recording the SNI names."""

    def __init__(self, certificate: trustme.LeafCert) -> None:
        self.names: list[str | None] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(context)
        context.sni_callback = lambda sock, name, ctx: self.names.append(name)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "8")
                self.end_headers()
                self.wfile.write(b"over tls")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                conn, address = self.socket.accept()
                return context.wrap_socket(conn, server_side=True), address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def __enter__(self) -> tuple[int, list[str | None]]:
        return int(self._server.server_address[1]), self.names

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _socks5_proxy:  # noqa: N801
    """A SOCKS5 proxy (no authentication, CONNECT only) that resolves `*.test` to loopback
    itself and records the targets it was asked for."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, int]] = []
        self._server = _Server(self._serve)

    def __enter__(self) -> tuple[int, list[tuple[str, int]]]:
        return int(self._server.port), self.targets

    def __exit__(self, *_: object) -> None:
        self._server.close()

    def _serve(self, conn: socket.socket) -> None:
        version, methods = _recv_exact(conn, 2)
        _recv_exact(conn, methods)
        conn.sendall(b"\x05\x00")
        _, command, _, kind = _recv_exact(conn, 4)
        if kind == 3:
            host = _recv_exact(conn, _recv_exact(conn, 1)[0]).decode()
        else:
            host = socket.inet_ntoa(_recv_exact(conn, 4))
        port = int.from_bytes(_recv_exact(conn, 2), "big")
        self.targets.append((host, port))
        address = "127.0.0.1" if host.endswith(".test") or host == "127.0.0.1" else None
        if version != 5 or command != 1 or address is None:
            conn.sendall(b"\x05\x02\x00\x01\0\0\0\0\0\0")
            return
        with socket.create_connection((address, port), timeout=2) as upstream:
            conn.sendall(b"\x05\x00\x00\x01\0\0\0\0\0\0")
            _pipe(conn, upstream)


def _recv_exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def _pipe(a: socket.socket, b: socket.socket) -> None:
    deadline = time.monotonic() + 120  # only a guard against a connection left open
    while time.monotonic() < deadline:
        readable, _, _ = select.select([a, b], [], [], 0.2)
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)
