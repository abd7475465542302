"""The demo hosts' abuse desks: their mailboxes on an SMTP server on loopback (aiosmtpd, in a
thread, 127.0.0.1 only), what each host does with a notice (PicDrop takes down the uploads a
notice lists; the mirror ignores notices), their platform registry entries, and a re-upload.

Owns the hosts' behaviour after a notice. Must not know Rempart's store: it sees only the
messages that arrive, as a real host would. Changes to the site happen when a notice arrives
(observed, never timed), and through `reupload`.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from rempart.demo_site.content import (
    ALTERATIONS,
    EXACT,
    SITE_START,
    MirrorEntry,
    MirrorMedia,
    MirrorThread,
    SiteContent,
)
from rempart.demo_site.web import SiteUrls

__all__ = [
    "MIRROR_MAILBOX",
    "PICDROP_MAILBOX",
    "AbuseDesks",
    "Received",
    "platforms_by_site",
    "platforms_toml",
    "serve_abuse_desks",
]

PICDROP_MAILBOX = "abuse@picdrop.demo.invalid"
MIRROR_MAILBOX = "abuse@forumvault.demo.invalid"
_UPLOAD = re.compile(r"/[fti]/([0-9A-Za-z]+)(?:\.jpg)?")


def platforms_by_site(urls: SiteUrls) -> dict[str, str]:
    """Which registry entry each demo host is, by its site (`127.0.0.1:8402`, as
    `rempart.fetch.site_key` writes it). The registry knows real hosts by name; the demo's
    hosts have none and share 127.0.0.1, so their ports tell them apart."""
    return {
        urlsplit(urls.imagehost).netloc: "demo-picdrop",
        urlsplit(urls.mirror).netloc: "demo-forumvault",
    }


def platforms_toml() -> str:
    """The demo hosts' entries for `$REMPART_HOME/platforms.toml` (clearly DEMO entries)."""
    return f"""schema = 1

# Written by `rempart demo` for its own demo site on loopback: not real platforms.

[platform.demo-picdrop]
name = "PicDrop (DEMO)"
roles = ["host"]
domains = ["picdrop.demo.invalid"]
country = {{ value = "FR", source = "https://picdrop.demo.invalid/abuse" }}
notice_email = {{ value = "{PICDROP_MAILBOX}", source = "https://picdrop.demo.invalid/abuse" }}
language = {{ value = "fr", source = "https://picdrop.demo.invalid/abuse" }}

[platform.demo-forumvault]
name = "ForumVault (DEMO)"
roles = ["host"]
domains = ["forumvault.demo.invalid"]
country = {{ value = "FR", source = "https://forumvault.demo.invalid/about" }}
notice_email = {{ value = "{MIRROR_MAILBOX}", source = "https://forumvault.demo.invalid/about" }}
language = {{ value = "fr", source = "https://forumvault.demo.invalid/about" }}
"""


@dataclass(frozen=True, slots=True)
class Received:
    """One message a mailbox got, and what its host did about it."""

    mailbox: str
    message_id: str
    removed: tuple[str, ...]  # upload ids taken down


@dataclass
class AbuseDesks:
    """The hosts' side: messages received, uploads removed, re-uploads made."""

    content: SiteContent
    urls: SiteUrls
    smtp_url: str = ""
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _arrived: threading.Condition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def deliver(self, mailbox: str, data: bytes) -> None:
        """A message arrives: PicDrop takes down the uploads it lists; the mirror does not act."""
        message = message_from_bytes(data, policy=default)
        assert isinstance(message, EmailMessage)
        removed: tuple[str, ...] = ()
        if mailbox == PICDROP_MAILBOX:
            removed = self._take_down(_text(message))
        with self._arrived:
            self.received.append(Received(mailbox, str(message["Message-ID"] or ""), removed))
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until `count` messages have arrived (observed progress, with a hang guard)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def _take_down(self, text: str) -> tuple[str, ...]:
        host = self.urls.imagehost.rstrip("/")
        wanted = {
            match.group(1)
            for line in text.split()
            if line.startswith(host)
            for match in [_UPLOAD.fullmatch(line[len(host) :].rstrip(".,;)>"))]
            if match
        }
        uploads = dict(self.content.uploads)
        gone = tuple(sorted(w for w in wanted if w in uploads and not uploads[w].removed))
        for host_id in gone:
            uploads[host_id] = replace(uploads[host_id], removed=True)
        _swap(self.content, "uploads", uploads)
        return gone

    def reupload(self, host_id: str) -> str:
        """Someone puts a removed upload's picture back up, on the mirror, in a new thread;
        returns the new copy's URL."""
        picture = self.content.uploads[host_id].picture
        media_id = f"r{len(self.content.mirror_media) + 1:05d}"
        media = dict(self.content.mirror_media)
        media[media_id] = MirrorMedia(media_id, picture, self._fresh_alteration(picture))
        newest = max(e.posted_at for t in self.content.mirror_threads for e in t.entries)
        posted = max(newest, SITE_START) + timedelta(days=1)
        thread = MirrorThread(
            len(self.content.mirror_threads) + 1,
            0,
            "Found again",
            "found-again",
            (MirrorEntry(0, "anon", posted, "back up", (media_id,)),),
        )
        _swap(self.content, "mirror_media", media)
        _swap(self.content, "mirror_threads", (thread, *self.content.mirror_threads))
        return f"{self.urls.mirror.rstrip('/')}/media/{media_id}.jpg"

    def _fresh_alteration(self, picture: int) -> str:
        """An alteration of `picture` found nowhere on the sites yet: a new file, so a new
        finding of the same item (an identical file would be a sighting of the old copy)."""
        used = {u.alteration for u in self.content.uploads.values() if u.picture == picture}
        used |= {m.alteration for m in self.content.mirror_media.values() if m.picture == picture}
        order = ("recompressed", "resized", EXACT, *ALTERATIONS)
        return next((a for a in order if a not in used), "recompressed")


def _swap(content: SiteContent, name: str, value: Any) -> None:
    """The site's content is frozen for its generator's sake; the hosts' actions after a
    notice swap in a whole new value, which the apps read on their next request."""
    object.__setattr__(content, name, value)


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


class _Handler:
    def __init__(self, desks: AbuseDesks) -> None:
        self.desks = desks

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() not in (PICDROP_MAILBOX, MIRROR_MAILBOX):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address.lower())
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        data: bytes = envelope.original_content or envelope.content
        for mailbox in envelope.rcpt_tos:
            self.desks.deliver(mailbox, data)
        return "250 2.0.0 OK"


@contextmanager
def serve_abuse_desks(content: SiteContent, urls: SiteUrls) -> Iterator[AbuseDesks]:
    """The hosts' mailboxes on an SMTP server on 127.0.0.1 (a free port), until the block ends;
    `desks.smtp_url` is the server's address, plain SMTP on loopback."""
    desks = AbuseDesks(content, urls)
    with socket.socket() as probe:  # aiosmtpd checks readiness on the port it is given
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Handler(desks), hostname="127.0.0.1", port=port)
    controller.start()
    desks.smtp_url = f"smtp://127.0.0.1:{port}?starttls=never"
    try:
        yield desks
    finally:
        controller.stop()
