"""Capturing a page with Debian's Chromium against real servers on 127.0.0.1: what a capture
holds (screenshot, HTML, WARC, media as served, context and checklist), how it records
redirects, HTTPS certificates and DNS answers, and what a minor's case keeps (no picture)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from capture_support import (
    FAST,
    LOOPBACK,
    OPERATOR,
    data_uri,
    loopback_resolver,
    png_picture,
    serve,
)
from warcio.archiveiterator import ArchiveIterator
from warcio.cli import main as warcio_cli

from rempart.demo_site import DemoSite, ServedSite
from rempart.evidence.artifacts import Capture
from rempart.evidence.browser import Browser, open_browser
from rempart.evidence.capture import capture_page
from rempart.hashing.image import hash_image_bytes
from rempart.hashing.sniff import sniff_media

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with open_browser() as opened:
        yield opened


@pytest.fixture(scope="module")
def demo() -> Iterator[ServedSite]:
    with DemoSite(seed=1, images=50).serve() as served:
        yield served


@pytest.fixture(scope="module")
def forum_capture(browser: Browser, demo: ServedSite) -> Capture:
    # a page whose copy is shown full size, at once (a lazy thumbnail may wait for a scroll)
    sighting = next(
        s for s in demo.expected_sightings() if s.where == "forum" and s.embed == "direct"
    )
    board = demo.forum_url + "/"
    return capture_page(
        browser,
        sighting.page_url,
        operator=OPERATOR,
        policy=LOOPBACK,
        link_path=(board, sighting.page_url),
        limits=FAST,
    )


def warc_records(capture: Capture) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(type, target URI, WARC headers, payload) of every record, digests checked."""
    found = []
    archive = io.BytesIO(capture.artifact("archive/data.warc.gz").data)
    for record in ArchiveIterator(archive, check_digests="raise"):
        payload = record.content_stream().read()
        headers = dict(record.rec_headers.headers)
        assert record.digest_checker.passed is not False, record.digest_checker.problems
        found.append((record.rec_type, headers.get("WARC-Target-URI", ""), headers, payload))
    return found


def warc_sha256(payload_digest: str) -> str:
    algorithm, _, value = payload_digest.partition(":")
    assert algorithm == "sha256"
    return base64.b32decode(value).hex()


# ---------------------------------------------------------------------------- a forum page


def test_forum_capture_holds_screenshot_html_warc_media_and_context(
    forum_capture: Capture,
) -> None:
    names = {a.name for a in forum_capture.artifacts}

    assert {"capture/screenshot.png", "capture/page.html", "archive/data.warc.gz"} <= names
    assert "capture/context.json" in names
    assert any(name.startswith("media/") for name in names)
    for artifact in forum_capture.artifacts:
        assert artifact.sha256 == hashlib.sha256(artifact.data).hexdigest()
        assert forum_capture.started_at <= artifact.acquired_at <= forum_capture.finished_at
    screenshot = forum_capture.artifact("capture/screenshot.png").data
    assert sniff_media(screenshot) == "image/png"
    assert b"Shutter Lane" in forum_capture.artifact("capture/page.html").data
    stored = json.loads(forum_capture.artifact("capture/context.json").data)
    assert stored == json.loads(json.dumps(dict(forum_capture.context)))


def test_forum_capture_warc_is_valid_and_names_the_server_contacted(
    forum_capture: Capture, tmp_path: Path
) -> None:
    warc = tmp_path / "data.warc.gz"
    warc.write_bytes(forum_capture.artifact("archive/data.warc.gz").data)
    with pytest.raises(SystemExit) as checked:
        warcio_cli(["check", str(warc)])  # warcio's own checker: every digest verified
    assert checked.value.code == 0

    records = warc_records(forum_capture)

    assert records[0][0] == "warcinfo"
    assert b"after content decoding" in records[0][3]
    responses = {uri: headers for kind, uri, headers, _ in records if kind == "response"}
    requests = {uri for kind, uri, _, _ in records if kind == "request"}
    assert forum_capture.url in responses and requests == set(responses)
    for headers in responses.values():
        assert headers["WARC-IP-Address"] == "127.0.0.1"
        assert headers["WARC-Date"].endswith("Z")
        assert headers["WARC-Payload-Digest"].startswith("sha256:")


def test_every_picture_served_is_kept_as_served_with_rempart_s_own_pdq(
    forum_capture: Capture,
) -> None:
    records = {uri: (headers, body) for kind, uri, headers, body in warc_records(forum_capture)}

    assert len(forum_capture.media) >= 3  # photos and the ad banners
    for media in forum_capture.media:
        served = httpx.get(media.url, timeout=5).content
        hashes = hash_image_bytes(served)
        assert media.sha256 == hashlib.sha256(served).hexdigest()
        assert (media.pdq, media.quality) == (hashes.pdq.hash.hex, hashes.pdq.quality)
        assert (media.width, media.height, media.size) == (hashes.width, hashes.height, len(served))
        assert media.artifact is not None
        assert forum_capture.artifact(media.artifact).data == served
        headers, body = records[media.url]
        assert body.endswith(served)
        assert warc_sha256(headers["WARC-Payload-Digest"]) == media.sha256


def test_context_records_who_where_with_what_and_the_checklist(forum_capture: Capture) -> None:
    context = forum_capture.context

    assert context["operator"] == {"name": "Camille Martin", "organisation": "Association Exemple"}
    assert {"hostname", "os", "platform"} <= set(context["machine"])
    assert {"rempart", "playwright", "chromium", "python", "warcio", "openssl"} <= set(
        context["tools"]
    )
    assert context["time"]["clock"]["ntp_synchronized"] in (True, False, "unknown")
    assert context["network"]["public_ip"] == "not determined"
    assert context["network"]["proxy"]["upstream"] == "none"
    assert context["browser"]["profile"]["fresh"] is True
    assert context["browser"]["profile"]["cookies_at_start"] == 0
    assert context["page"]["link_path"] == list(forum_capture.link_path)
    assert forum_capture.link_path[-1] == forum_capture.url
    assert context["page"]["status"] == 200
    assert any(name == "User-Agent" for name, _ in context["page"]["request_headers"])
    assert context["screenshot"]["taken"] is True and context["screenshot"]["capped"] is False
    checklist = {item["id"]: item for item in context["checklist"]}
    assert checklist["screenshot"]["status"] == "recorded"
    assert checklist["tls"]["status"] == "not applicable"
    assert checklist["connection"]["status"] == "missing"  # no public IP given
    assert checklist["path"]["detail"].startswith("1 links followed")
    assert all(set(item["label"]) == {"en", "fr"} for item in checklist.values())


def test_redirects_are_followed_and_recorded(browser: Browser, demo: ServedSite) -> None:
    short = demo.forum_url + "/thread/101"  # the forum answers 301 to the slugged address

    capture = capture_page(browser, short, operator=OPERATOR, policy=LOOPBACK, limits=FAST)

    assert capture.final_url.startswith(short + "-")
    chain = capture.context["page"]["redirect_chain"]
    assert [(hop["url"], hop["status"]) for hop in chain] == [(short, 301)]
    assert chain[0]["location"] == capture.final_url
    redirect = next(
        headers
        for kind, uri, headers, _ in warc_records(capture)
        if kind == "response" and uri == short
    )
    assert redirect["WARC-IP-Address"] == "127.0.0.1"


def test_each_capture_starts_from_a_fresh_profile(browser: Browser) -> None:
    with serve() as site:
        url = site.route("/", b"<p>hello</p>", headers={"Set-Cookie": "visitor=42; Path=/"})

        first = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=FAST)
        second = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=FAST)

    assert [c.context["browser"]["profile"]["cookies_at_start"] for c in (first, second)] == [0, 0]
    assert second.context["browser"]["cookies_set_by_sites"] == [
        {"name": "visitor", "domain": "127.0.0.1"}
    ]
    page_requests = [headers for path, headers in site.seen if path == "/"]
    assert len(page_requests) == 2 and all("cookie" not in h for h in page_requests)


# ---------------------------------------------------------------------------------- HTTPS


def test_https_certificate_chain_dns_and_public_ip_are_recorded_untrusted_ca_said_so(
    browser: Browser,
) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("secure.test")
    picture = png_picture(3)
    with serve(tls=leaf, host_name="secure.test") as site:
        site.route("/pic.png", picture, content_type="image/png")
        url = site.route("/page", b'<h1>secure</h1><img src="/pic.png">')

        capture = capture_page(
            browser,
            url,
            operator=OPERATOR,
            policy=LOOPBACK,
            limits=FAST,
            resolver=loopback_resolver,
            public_ip="203.0.113.7",
        )

    (tls,) = capture.context["tls"]
    assert tls["origin"] == site.origin
    assert tls["chain_pem"][0].strip() == leaf.cert_chain_pems[0].bytes().decode().strip()
    assert tls["trusted"] is False and "ERR_CERT_AUTHORITY_INVALID" in tls["error"]
    assert tls["protocol"].startswith("TLS") and tls["cipher"]
    assert tls["san"] == ["secure.test"]
    assert capture.context["network"]["dns"] == {"secure.test": [{"addresses": ["127.0.0.1"]}]}
    responses = [h for kind, _, h, _ in warc_records(capture) if kind == "response"]
    assert {h["WARC-IP-Address"] for h in responses} == {"127.0.0.1"}
    assert [m.sha256 for m in capture.media] == [hashlib.sha256(picture).hexdigest()]
    checklist = {item["id"]: item for item in capture.context["checklist"]}
    assert checklist["tls"]["status"] == "recorded"
    assert "not trusted" in checklist["tls"]["detail"]
    assert capture.context["network"]["public_ip"] == "203.0.113.7"
    assert checklist["connection"]["status"] == "recorded"


# ------------------------------------------------------------------------ a minor's case


def test_no_media_capture_keeps_no_picture_anywhere(browser: Browser) -> None:
    photo, inline = png_picture(5), png_picture(6, 16, 12)
    page = f'<p>post</p><img src="/photo.png"><img src="{data_uri(inline)}">'.encode()
    with serve() as site:
        site.route("/photo.png", photo, content_type="image/png")
        url = site.route("/post", page)

        capture = capture_page(
            browser, url, operator=OPERATOR, policy=LOOPBACK, limits=FAST, no_media=True
        )

    assert capture.no_media
    assert {a.name for a in capture.artifacts} == {
        "capture/page.html",
        "archive/data.warc.gz",
        "capture/context.json",
    }
    (media,) = capture.media
    assert media.artifact is None
    assert media.sha256 == hashlib.sha256(photo).hexdigest()
    assert media.pdq == hash_image_bytes(photo).pdq.hash.hex
    forbidden = [photo, inline, base64.b64encode(photo), base64.b64encode(inline)]
    for artifact in capture.artifacts:
        assert not any(picture in artifact.data for picture in forbidden), artifact.name
    records = warc_records(capture)
    for kind, _, _, payload in records:
        assert not any(picture in payload for picture in forbidden)
        assert sniff_media(payload) is None, kind
    withheld = next(json.loads(p) for k, u, _, p in records if k == "metadata" and u == media.url)
    assert withheld["payload_sha256"] == media.sha256
    html = capture.artifact("capture/page.html").data
    assert re.search(rb"data:image/png;withheld-sha256=[0-9a-f]{64},", html)
    assert capture.context["screenshot"] == {"taken": False, "reason": "no_media"}
