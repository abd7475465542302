"""The demo hosts' abuse desks: their mailboxes on a real SMTP server on loopback, PicDrop
taking down what a notice lists when it arrives, the mirror ignoring notices, a re-upload
served after a removal, and their registry entries."""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rempart.demo_site import DemoSite
from rempart.demo_site.abuse import (
    MIRROR_MAILBOX,
    PICDROP_MAILBOX,
    AbuseDesks,
    platforms_by_site,
    platforms_toml,
    serve_abuse_desks,
)
from rempart.demo_site.site import ServedSite
from rempart.demo_takedown import NoLookups, demo_registry
from rempart.takedown.recipients import resolve
from rempart.takedown.registry import parse_registry, shipped_registry_text
from rempart.takedown.smtp import SmtpUrl


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[DemoSite, ServedSite, AbuseDesks]]:
    site = DemoSite(seed=3, images=40)
    with (
        site.serve() as served,
        serve_abuse_desks(site.content, served.urls) as desks,
    ):
        yield site, served, desks


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def send(desks: AbuseDesks, to: str, body: str) -> None:
    url = SmtpUrl.parse(desks.smtp_url)
    assert url.host == "127.0.0.1"
    message = EmailMessage()
    message["From"] = "signalements@association.demo.invalid"
    message["To"] = to
    message["Subject"] = "Notification"
    message["Message-ID"] = f"<{len(desks.received)}@test>"
    message.set_content(body)
    with smtplib.SMTP(url.host, url.port, timeout=10) as client:
        client.send_message(message)


def live_upload(site: DemoSite) -> str:
    return next(h for h, u in sorted(site.content.uploads.items()) if not u.removed)


def test_the_hosts_and_mailboxes_are_on_127_0_0_1_only_each_host_on_its_own_port(running) -> None:  # type: ignore[no-untyped-def]
    _site, served, desks = running
    bound = [urlsplit(u) for u in (served.forum_url, served.imagehost_url, served.mirror_url)]
    assert [b.hostname for b in bound] == ["127.0.0.1"] * 3  # what each server is bound to
    assert len({b.port for b in bound}) == 3
    assert SmtpUrl.parse(desks.smtp_url).host == "127.0.0.1"
    assert platforms_by_site(served.urls) == {
        bound[1].netloc: "demo-picdrop",
        bound[2].netloc: "demo-forumvault",
    }


def test_the_takedown_tells_the_hosts_apart_by_port_and_resolves_to_127_0_0_1_only(  # type: ignore[no-untyped-def]
    running, tmp_path: Path
) -> None:
    site, served, _desks = running
    (tmp_path / "platforms.toml").write_text(platforms_toml(), encoding="utf-8")
    registry = demo_registry(tmp_path, served.urls)
    copies = {
        "host": f"{served.imagehost_url}/f/{live_upload(site)}.jpg",
        "mirror": f"{served.mirror_url}/media/{sorted(site.content.mirror_media)[0]}.jpg",
        "forum": f"{served.forum_url}/",
    }

    found = {k: resolve(url, registry=registry, lookups=NoLookups()) for k, url in copies.items()}

    assert (found["host"].platform, found["mirror"].platform) == ("demo-picdrop", "demo-forumvault")
    assert found["forum"].platform == ""  # not a known platform: looked up, nothing found
    assert {a for r in found.values() for a in r.addresses} == {"127.0.0.1"}


def test_picdrop_takes_down_the_uploads_a_notice_lists_when_it_arrives(running) -> None:  # type: ignore[no-untyped-def]
    site, served, desks = running
    host_id = live_upload(site)
    url = f"{served.imagehost_url}/f/{host_id}.jpg"
    assert status(url) == 200
    before = len(desks.received)
    send(desks, PICDROP_MAILBOX, f"Please remove:\n  {url}\nThank you.")
    assert desks.wait_for(before + 1)
    assert desks.received[-1].removed == (host_id,)
    assert status(url) == 410
    assert status(f"{served.imagehost_url}/i/{host_id}") == 410


def test_the_mirror_ignores_notices(running) -> None:  # type: ignore[no-untyped-def]
    site, served, desks = running
    media_id = sorted(site.content.mirror_media)[0]
    url = f"{served.mirror_url}/media/{media_id}.jpg"
    before = len(desks.received)
    send(desks, MIRROR_MAILBOX, f"Please remove {url}")
    assert desks.wait_for(before + 1)
    assert desks.received[-1].removed == ()
    assert status(url) == 200


def test_an_unknown_mailbox_is_refused(running) -> None:  # type: ignore[no-untyped-def]
    _site, _served, desks = running
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(desks, "someone@elsewhere.invalid", "hello")


def test_a_removed_upload_comes_back_on_the_mirror_as_a_new_file(running) -> None:  # type: ignore[no-untyped-def]
    site, served, desks = running
    host_id = live_upload(site)
    with urllib.request.urlopen(served.mirror_url, timeout=10) as listing:
        modified = listing.headers["Last-Modified"]
    url = desks.reupload(host_id)
    assert url.startswith(served.mirror_url)
    assert status(url) == 200
    with urllib.request.urlopen(served.mirror_url, timeout=10) as again:
        assert again.headers["Last-Modified"] != modified  # a re-scan reads the listing again
        assert b"Found again" in again.read()
    medium = site.content.mirror_media[url.rsplit("/", 1)[1].removesuffix(".jpg")]
    others = [m for m in site.content.mirror_media.values() if m.picture == medium.picture]
    assert [m.alteration for m in others].count(medium.alteration) == 1


def test_the_demo_platforms_lay_over_the_shipped_registry() -> None:
    base = parse_registry(shipped_registry_text())
    platforms = parse_registry(platforms_toml(), origin="demo", base=base)
    assert platforms["demo-picdrop"].fact("notice_email").value == PICDROP_MAILBOX  # type: ignore[union-attr]
    assert platforms["demo-forumvault"].fact("notice_email").value == MIRROR_MAILBOX  # type: ignore[union-attr]
    assert "DEMO" in platforms["demo-picdrop"].name
