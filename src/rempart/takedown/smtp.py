"""Sending one message through the organisation's SMTP server: the adapter behind notices.

Owns the SMTP URL (smtp:// with STARTTLS when offered, or required with `?starttls=required`;
smtps:// for TLS from the start; credentials only in the URL, from config.toml or
REMPART_SMTP_URL, never in argv), and the translation of SMTP answers into three outcomes:
a temporary failure (4xx, or the connection lost before the message was handed over), a
permanent one (5xx), and an uncertain one (the connection lost after the message's last byte
was sent, before the server answered). Must not touch the store: the caller records.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from rempart.errors import InputError
from rempart.takedown.errors import TakedownError

__all__ = [
    "DeliveryError",
    "PermanentFailure",
    "SmtpTransport",
    "SmtpUrl",
    "TemporaryFailure",
    "UncertainDelivery",
    "mask_url",
]

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class DeliveryError(TakedownError):
    """A message could not be handed to the mail server."""


class TemporaryFailure(DeliveryError):
    """4xx, or no connection: the message was not accepted; trying again later is right."""


class PermanentFailure(DeliveryError):
    """5xx: the server refused the message; sending it again would be refused again."""


class UncertainDelivery(DeliveryError):
    """The message's last byte left, then the connection broke before the server answered:
    it may or may not have been accepted. Never sent again automatically."""


@dataclass(frozen=True, slots=True)
class SmtpUrl:
    """A parsed smtp:// or smtps:// URL. `password` never appears in `repr` or `masked`."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: str = "auto"  # auto (when offered), required, never (loopback tests only)

    @classmethod
    def parse(cls, url: str) -> SmtpUrl:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise InputError("the SMTP URL is not valid: {url}", url=mask_url(url)) from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InputError(
                "the SMTP URL must be smtp://host:port or smtps://host:port, not {url}",
                url=mask_url(url),
            )
        query = parse_qs(parts.query)
        starttls = (query.get("starttls") or ["auto"])[0]
        if starttls not in ("auto", "required", "never"):
            raise InputError(
                "starttls must be auto, required or never, not {value!r}", value=starttls
            )
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=port or (465 if parts.scheme == "smtps" else 587),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            starttls=starttls,
        )

    @property
    def masked(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        return self.host in _LOOPBACK


def mask_url(url: str) -> str:
    """`url` with any password replaced by ***: for every message and output."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparsable URL>"


def _code_error(code: int, text: bytes | str, where: str) -> DeliveryError:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reply = " ".join(reply.split())[:300]
    if 400 <= code < 500:
        return TemporaryFailure(
            "the mail server answered {code} at {where}: {reply}",
            code=code,
            where=where,
            reply=reply,
        )
    return PermanentFailure(
        "the mail server refused the message ({code} at {where}): {reply}",
        code=code,
        where=where,
        reply=reply,
    )


class SmtpTransport:
    """Hands one message at a time to the SMTP server, calling `before_data` just before the
    message's content is sent (the caller records that it may now be delivered)."""

    def __init__(self, url: SmtpUrl, *, timeout: float = 30.0, local_hostname: str | None = None):
        self.url = url
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._tls: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        """The TLS context (certificates verified), made once: loading the system's CAs is
        most of the cost of a connection."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def __repr__(self) -> str:
        return f"SmtpTransport({self.url.masked})"

    def _connect(self) -> smtplib.SMTP:
        url = self.url
        try:
            if url.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    url.host,
                    url.port,
                    timeout=self.timeout,
                    context=self._context(),
                    local_hostname=self.local_hostname,
                )
            else:
                client = smtplib.SMTP(
                    url.host, url.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
            client.ehlo()
            tls = url.scheme == "smtps"
            if url.scheme == "smtp" and url.starttls != "never":
                if client.has_extn("starttls"):
                    client.starttls(context=self._context())
                    client.ehlo()
                    tls = True
                elif url.starttls == "required":
                    client.close()
                    raise PermanentFailure(
                        "{server} does not offer STARTTLS, which the SMTP URL requires",
                        server=url.masked,
                    )
            if url.username:
                if not tls and not url.loopback:
                    client.close()
                    raise PermanentFailure(
                        "refusing to send the SMTP password in clear to {server}: use "
                        "smtps:// or a server that offers STARTTLS",
                        server=url.masked,
                    )
                client.login(url.username, url.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(
                "the mail server {server} refused the login ({code})",
                server=url.masked,
                code=exc.smtp_code,
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _code_error(exc.smtp_code, exc.smtp_error, "connect") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(
                "cannot reach the mail server {server}: {problem}",
                server=url.masked,
                problem=type(exc).__name__,
            ) from None
        return client

    def send(
        self,
        message: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_data: Callable[[], None] = lambda: None,
    ) -> str:
        """Deliver `message`; returns the server's final reply. Raises TemporaryFailure,
        PermanentFailure or UncertainDelivery."""
        client = self._connect()
        try:
            try:
                code, reply = client.mail(sender)
                if code != 250:
                    raise _code_error(code, reply, "MAIL FROM")
                for recipient in recipients:
                    code, reply = client.rcpt(recipient)
                    if code not in (250, 251):
                        raise _code_error(code, reply, "RCPT TO")
                code, reply = client.docmd("DATA")
                if code != 354:
                    raise _code_error(code, reply, "DATA")
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise TemporaryFailure(
                    "the mail server {server} closed the connection before the message was "
                    "sent ({problem})",
                    server=self.url.masked,
                    problem=type(exc).__name__,
                ) from None
            before_data()
            try:
                data = smtplib.quotedata(message.decode("ascii", "surrogateescape")).encode(
                    "ascii", "surrogateescape"
                )
                if not data.endswith(b"\r\n"):
                    data += b"\r\n"
                client.send(data + b".\r\n")
                code, reply = client.getreply()
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise UncertainDelivery(
                    "the connection to {server} broke after the message was sent and before "
                    "the server answered ({problem})",
                    server=self.url.masked,
                    problem=type(exc).__name__,
                ) from None
            if code != 250:
                raise _code_error(code, reply, "end of DATA")
            return reply.decode("utf-8", "replace")
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
