"""RFC 3161 time-stamps: ask one or more authorities to stamp bytes, keep everything needed to
check the answer decades later without them (the full response, the TSA certificate chain,
the CRLs fetched at stamping time), and check it offline.

Owns the time-stamp protocol and certificate-path checks. Must not read the clock when
verifying: certificates are judged at the token's genTime, so a verdict never changes.
The network is only touched through the httpx.Client the caller passes to `request_timestamps`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import (
    InvalidSignature,
    UnsupportedAlgorithm,
)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client._rust import parse_timestamp_request

from rempart.errors import InputError, TimestampError
from rempart.i18n import Phrase, joined

__all__ = [
    "InvalidAuthorityError",
    "RevocationStatus",
    "Timestamp",
    "TimestampAuthority",
    "TimestampVerdict",
    "Timestamper",
    "build_request",
    "certificate_fingerprint",
    "fetch_revocation",
    "load_certificates",
    "make_timestamper",
    "openssl_verify_command",
    "request_timestamps",
    "verify_timestamp",
]

_SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
_MAX_RESPONSE = 1024 * 1024
_MAX_CRL = 16 * 1024 * 1024
_MAX_CHAIN = 8
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_COMPROMISE = {
    None,
    x509.ReasonFlags.unspecified,
    x509.ReasonFlags.key_compromise,
    x509.ReasonFlags.ca_compromise,
    x509.ReasonFlags.aa_compromise,
}


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, lowercase hex (what `openssl x509 -fingerprint
    -sha256` prints, without colons)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def load_certificates(blobs: Sequence[bytes]) -> list[x509.Certificate]:
    """Certificates from PEM (one or many per blob) or DER blobs; ValueError if unreadable."""
    found: list[x509.Certificate] = []
    for blob in blobs:
        if b"-----BEGIN CERTIFICATE-----" in blob:
            found.extend(x509.load_pem_x509_certificates(blob))
        else:
            found.append(x509.load_der_x509_certificate(blob))
    return found


class InvalidAuthorityError(InputError, ValueError):
    """An authority's name or URL is unusable (a ValueError too: it is a value's check)."""


@dataclass(frozen=True, slots=True)
class TimestampAuthority:
    """One configured authority. `certificates` (PEM or DER) are its chain as published by
    the authority, root included: the root is what stamping-time checks trust."""

    name: str  # stable, [a-z0-9-]: names its files inside bundles
    url: str
    certificates: tuple[bytes, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise InvalidAuthorityError(
                "authority name must match [a-z0-9-]{{1,40}}: {name!r}", name=self.name
            )
        if not self.url.startswith(("http://", "https://")):
            raise InvalidAuthorityError("authority URL must be http(s): {url!r}", url=self.url)


@dataclass(frozen=True, slots=True)
class Timestamp:
    """One authority's answer, with what checking it later needs."""

    authority: str
    url: str
    request: bytes = field(repr=False)  # the DER TimeStampReq sent (imprint, nonce)
    response: bytes = field(repr=False)  # the full DER TimeStampResp received
    chain: tuple[bytes, ...] = field(default=(), repr=False)  # DER, TSA certificate first
    crls: tuple[bytes, ...] = field(default=(), repr=False)  # DER, fetched at stamping time
    revocation_notes: tuple[str, ...] = ()  # plainly: what could not be fetched, and why
    # (Phrases when fetched here: English in the bundle, any language when shown)

    @property
    def gen_time(self) -> datetime:
        return _gen_time(decode_timestamp_response(self.response))


Timestamper = Callable[[bytes], Sequence[Timestamp]]


class RevocationStatus(StrEnum):
    GOOD = "good"  # every certificate of the path was found on a CRL of its issuer, unrevoked
    REVOKED = "revoked"  # revoked at or before genTime, or for a compromise
    REVOKED_LATER = "revoked_later"  # revoked after genTime for a benign reason
    UNKNOWN = "unknown"  # some certificate could not be checked (no CRL kept)


@dataclass(frozen=True, slots=True)
class TimestampVerdict:
    """What `verify_timestamp` found. `problems` empty: the token is valid over the data, with
    a chain valid at genTime up to `root_subject`; `trusted` says if that root was given.
    `problems` and `revocation_detail` are English text; those made here are Phrases, which
    `localized(lang)` says in the reader's language."""

    authority: str
    gen_time: datetime | None
    serial: int | None
    problems: tuple[str, ...]
    tsa_subject: str | None
    root_subject: str | None
    root_fingerprint: str | None
    trusted: bool | None  # None: no trusted roots were given
    revocation: RevocationStatus
    revocation_detail: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def build_request(data: bytes) -> bytes:
    """A DER TimeStampReq for `data`: SHA-256 imprint, a random 64-bit nonce, certReq."""
    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    return bytes(request.as_bytes())


def request_timestamps(
    data: bytes,
    authorities: Sequence[TimestampAuthority],
    *,
    http: httpx.Client,
) -> tuple[Timestamp, ...]:
    """Ask every authority to stamp `data`; keep every valid answer (checked against the
    authority's configured root, at its genTime) with its chain and CRLs. Raises
    TimestampError, listing each authority's failure, only when none answered validly."""
    if not authorities:
        raise TimestampError("no time-stamping authority is configured")
    kept: list[Timestamp] = []
    failures: list[Phrase] = []
    for authority in authorities:
        try:
            kept.append(_stamp_one(data, authority, http))
        except TimestampError as exc:
            failures.append(Phrase("{authority}: {problem}", authority=authority.name, problem=exc))
    if not kept:
        raise TimestampError(
            "no authority gave a valid time-stamp: {failures}", failures=joined(failures)
        )
    return tuple(kept)


def make_timestamper(
    authorities: Sequence[TimestampAuthority], *, http: httpx.Client
) -> Timestamper:
    """The `timestamper` that sealing takes: bytes in, time-stamps out."""
    chosen = tuple(authorities)

    def stamp(data: bytes) -> Sequence[Timestamp]:
        return request_timestamps(data, chosen, http=http)

    return stamp


def _stamp_one(data: bytes, authority: TimestampAuthority, http: httpx.Client) -> Timestamp:
    try:
        configured = load_certificates(authority.certificates)
    except ValueError as exc:
        raise TimestampError(
            "its configured certificates are unreadable: {reason}", reason=exc
        ) from None
    request = build_request(data)
    response = _post(http, authority.url, request)
    try:
        parsed = decode_timestamp_response(response)
        token_certs = [x509.load_der_x509_certificate(c) for c in parsed.signed_data.certificates]
        leaf = _signer(parsed, token_certs + configured)
    except (ValueError, VerificationError) as exc:
        raise TimestampError("unreadable answer: {reason}", reason=exc) from None
    if parsed.status != PKIStatus.GRANTED:
        raise TimestampError("refused (status {status})", status=parsed.status)
    path, _ = _build_path(leaf, token_certs + configured)
    crls, notes = fetch_revocation(path, http=http)
    stamp = Timestamp(
        authority=authority.name,
        url=authority.url,
        request=request,
        response=response,
        chain=tuple(c.public_bytes(serialization.Encoding.DER) for c in path),
        crls=crls,
        revocation_notes=notes,
    )
    roots = [c for c in configured if _self_signed(c)]
    verdict = verify_timestamp(stamp, data, roots=roots)
    if not verdict.valid:
        raise TimestampError("invalid answer: {problems}", problems=joined(verdict.problems))
    if verdict.trusted is False:
        raise TimestampError(
            "answer does not chain to its configured root ({root})", root=verdict.root_subject
        )
    if verdict.revocation is RevocationStatus.REVOKED:
        raise TimestampError("the authority's certificate is revoked")
    return stamp


def _post(http: httpx.Client, url: str, request: bytes) -> bytes:
    headers = {
        "Content-Type": "application/timestamp-query",
        "Accept": "application/timestamp-reply",
    }
    try:
        with http.stream("POST", url, content=request, headers=headers) as answer:
            if answer.status_code != 200:
                raise TimestampError("HTTP {status}", status=answer.status_code)
            return _read_capped(answer, _MAX_RESPONSE)
    except httpx.HTTPError as exc:
        raise TimestampError("unreachable ({kind})", kind=exc.__class__.__name__) from None


def _read_capped(answer: httpx.Response, cap: int) -> bytes:
    body = bytearray()
    for chunk in answer.iter_bytes():
        body.extend(chunk)
        if len(body) > cap:
            raise TimestampError("answer larger than {cap} bytes", cap=cap)
    return bytes(body)


def fetch_revocation(
    path: Sequence[x509.Certificate], *, http: httpx.Client
) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """The CRLs (DER) of each non-root certificate of `path` (TSA first), from its CRL
    distribution points, each checked against its issuer; and plain notes on what could not
    be fetched."""
    crls: list[bytes] = []
    notes: list[str] = []
    for index, certificate in enumerate(path):
        if _self_signed(certificate):
            continue
        issuer = path[index + 1] if index + 1 < len(path) else None
        subject = certificate.subject.rfc4514_string()
        urls = _crl_urls(certificate)
        if not urls:
            notes.append(
                Phrase(
                    "{subject} names no CRL distribution point: revocation not checkable",
                    subject=subject,
                )
            )
            continue
        found = False
        for url in urls:
            try:
                der = _fetch_crl(http, url, issuer)
            except TimestampError as exc:
                notes.append(
                    Phrase(
                        "CRL for {subject} at {url} not fetched: {reason}",
                        subject=subject,
                        url=url,
                        reason=exc,
                    )
                )
                continue
            if der not in crls:
                crls.append(der)
            found = True
            break
        if not found:
            notes.append(
                Phrase(
                    "no CRL for {subject} could be fetched: revocation not checkable",
                    subject=subject,
                )
            )
    return tuple(crls), tuple(notes)


def _crl_urls(certificate: x509.Certificate) -> list[str]:
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or ()
        if isinstance(name, x509.UniformResourceIdentifier)
        and name.value.startswith(("http://", "https://"))
    ]


def _fetch_crl(http: httpx.Client, url: str, issuer: x509.Certificate | None) -> bytes:
    try:
        with http.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise TimestampError("HTTP {status}", status=answer.status_code)
            body = _read_capped(answer, _MAX_CRL)
    except httpx.HTTPError as exc:
        raise TimestampError("unreachable ({kind})", kind=exc.__class__.__name__) from None
    try:
        crl = (
            x509.load_pem_x509_crl(body)
            if body.lstrip().startswith(b"-----BEGIN")
            else x509.load_der_x509_crl(body)
        )
    except ValueError:
        raise TimestampError("not a CRL") from None
    if issuer is not None and not _crl_signed_by(crl, issuer):
        raise TimestampError("CRL not signed by the certificate's issuer")
    return crl.public_bytes(serialization.Encoding.DER)


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=256)
def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.subject == certificate.issuer and _issued(certificate, certificate)


def _gen_time(parsed: Any) -> datetime:
    moment: datetime = parsed.tst_info.gen_time
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _signer(parsed: Any, pool: Sequence[x509.Certificate]) -> x509.Certificate:
    """The certificate named by the token's (signed) SignerInfo."""
    infos = list(parsed.signed_data.signer_infos)
    if len(infos) != 1:
        raise _TokenError("expected one SignerInfo, found {count}", count=len(infos))
    info = infos[0]
    for certificate in pool:
        if certificate.issuer == info.issuer and certificate.serial_number == info.serial_number:
            return certificate
    raise _TokenError("the token's signing certificate is neither in it nor in the kept chain")


class _TokenError(TimestampError, ValueError):
    """A token that cannot be checked at all (a ValueError for the callers that parse it)."""


def _build_path(
    leaf: x509.Certificate, pool: Sequence[x509.Certificate]
) -> tuple[list[x509.Certificate], Phrase | None]:
    """Leaf first, up to a self-signed root when one is in `pool`; the reason it stopped short
    otherwise. Signatures are checked link by link; validity times are not (see _path_problems)."""
    path = [leaf]
    current = leaf
    while not _self_signed(current):
        if len(path) > _MAX_CHAIN:
            return path, Phrase("the certificate chain is too long")
        issuer = next(
            (
                c
                for c in pool
                if c.subject == current.issuer and c not in path and _issued(current, c)
            ),
            None,
        )
        if issuer is None:
            return path, Phrase("issuer {issuer} not found", issuer=current.issuer.rfc4514_string())
        path.append(issuer)
        current = issuer
    return path, None


@functools.lru_cache(maxsize=512)
def _issued(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` signed `child`. A pure function of both certificates' DER (which is
    what Certificate equality and hashing compare), so verdicts are cached: a verifier checks
    the same few authority certificates over and over."""
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _path_problems(path: Sequence[x509.Certificate], at: datetime) -> list[Phrase]:
    problems = []
    for index, certificate in enumerate(path):
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            problems.append(
                Phrase(
                    "{subject} was not valid at genTime {at} (valid {start} to {end})",
                    subject=certificate.subject.rfc4514_string(),
                    at=f"{at:%Y-%m-%dT%H:%M:%SZ}",
                    start=f"{certificate.not_valid_before_utc:%Y-%m-%d}",
                    end=f"{certificate.not_valid_after_utc:%Y-%m-%d}",
                )
            )
        if index == 0:
            problems.extend(_tsa_usage_problems(certificate))
        elif not _is_ca(certificate):
            problems.append(
                Phrase(
                    "{subject} signs certificates but is not a CA",
                    subject=certificate.subject.rfc4514_string(),
                )
            )
    return problems


def _tsa_usage_problems(certificate: x509.Certificate) -> list[Phrase]:
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return [Phrase("the TSA certificate has no extended key usage")]
    problems = []
    if not eku.critical:
        problems.append(Phrase("the TSA certificate's extended key usage is not critical"))
    if list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        problems.append(
            Phrase("the TSA certificate's extended key usage is not timeStamping alone")
        )
    return problems


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    if not constraints.value.ca:
        return False
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.key_cert_sign


def verify_timestamp(
    stamp: Timestamp,
    data: bytes,
    *,
    roots: Sequence[x509.Certificate] = (),
    crls: Sequence[bytes] = (),
) -> TimestampVerdict:
    """Check `stamp` over `data`, offline: imprint (SHA-256 of data, as requested), nonce,
    CMS signature, the TSA certificate's EKU, the chain link by link with every certificate
    valid at genTime, trust (does the chain end at one of `roots`?) and revocation against the
    CRLs kept at stamping time plus `crls` (DER, obtained later by the verifier: a key
    compromise is often published after the fact). Never raises on malformed input."""
    try:
        with warnings.catch_warnings():
            # Hostile certificates (a negative serial...) make cryptography warn; the verdict
            # already says what is wrong, and a verifier's output must stay readable.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _verify(stamp, data, roots, tuple(crls))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # rfc3161-client can panic (a BaseException) on hostile DER
        return _failed(
            stamp,
            Phrase(
                "unreadable time-stamp ({kind}: {reason})",
                kind=exc.__class__.__name__,
                reason=str(exc)[:240],
            ),
        )


def _failed(
    stamp: Timestamp, problem: Phrase, gen_time: datetime | None = None
) -> TimestampVerdict:
    return TimestampVerdict(
        stamp.authority, gen_time, None, (problem,), None, None, None, None,
        RevocationStatus.UNKNOWN, (),
    )  # fmt: skip


def _verify(
    stamp: Timestamp, data: bytes, roots: Sequence[x509.Certificate], extra_crls: tuple[bytes, ...]
) -> TimestampVerdict:
    parsed = decode_timestamp_response(stamp.response)
    if parsed.status != PKIStatus.GRANTED:
        return _failed(
            stamp, Phrase("the authority did not grant it (status {status})", status=parsed.status)
        )
    gen_time = _gen_time(parsed)
    problems: list[Phrase] = []
    digest = hashlib.sha256(data).digest()
    imprint = parsed.tst_info.message_imprint
    if imprint.hash_algorithm != _SHA256_OID or imprint.message != digest:
        problems.append(Phrase("its imprint is not the SHA-256 of the stamped file"))
    request = parse_timestamp_request(stamp.request)
    if request.message_imprint.message != digest:
        problems.append(Phrase("the kept request is not for the stamped file"))
    if request.nonce is None or parsed.tst_info.nonce != request.nonce:
        problems.append(Phrase("its nonce does not match the kept request"))

    token_certs = [x509.load_der_x509_certificate(c) for c in parsed.signed_data.certificates]
    kept = [x509.load_der_x509_certificate(c) for c in stamp.chain]
    pool = token_certs + kept + list(roots)
    try:
        leaf = _signer(parsed, pool)
    except _TokenError as exc:
        return _failed(stamp, Phrase(exc.template, **exc.values), gen_time)
    path, short = _build_path(leaf, pool)
    if short is not None:
        problems.append(Phrase("the chain does not reach a root: {why}", why=short))
    problems.extend(_path_problems(path, gen_time))
    root = path[-1] if short is None else None
    if root is not None:
        problems.extend(_signature_problems(parsed, digest, path, request.nonce))
    trusted: bool | None = None
    if roots:
        root_ders = {r.public_bytes(serialization.Encoding.DER) for r in roots}
        trusted = root is not None and root.public_bytes(serialization.Encoding.DER) in root_ders
    revocation, detail = _revocation(path, stamp.crls + extra_crls, stamp, gen_time)
    if revocation is RevocationStatus.REVOKED:
        problems.append(
            Phrase("a certificate of the chain is revoked: {detail}", detail=joined(detail))
        )
    return TimestampVerdict(
        authority=stamp.authority,
        gen_time=gen_time,
        serial=int(parsed.tst_info.serial_number),
        problems=tuple(problems),
        tsa_subject=leaf.subject.rfc4514_string(),
        root_subject=root.subject.rfc4514_string() if root is not None else None,
        root_fingerprint=certificate_fingerprint(root) if root is not None else None,
        trusted=trusted,
        revocation=revocation,
        revocation_detail=detail,
    )


def _signature_problems(
    parsed: Any, digest: bytes, path: Sequence[x509.Certificate], nonce: int | None
) -> list[Phrase]:
    """The CMS signature and ESS binding, checked by rfc3161-client against this path's root
    (certificate times are judged at genTime there too)."""
    builder = VerifierBuilder(
        roots=[path[-1]],
        intermediates=list(path[1:-1]),
        nonce=nonce,
    )
    try:
        builder.build().verify(parsed, digest)
    except VerificationError as exc:
        return [Phrase("its signature does not verify: {reason}", reason=str(exc)[:270])]
    return []


def _revocation(
    path: Sequence[x509.Certificate], ders: Sequence[bytes], stamp: Timestamp, gen_time: datetime
) -> tuple[RevocationStatus, tuple[str, ...]]:
    crls = []
    for der in ders:
        try:
            crls.append(x509.load_der_x509_crl(der))
        except ValueError:
            return RevocationStatus.UNKNOWN, (Phrase("a kept CRL is unreadable"),)
    status = RevocationStatus.GOOD
    detail: list[str] = []
    for index, certificate in enumerate(path):
        if _self_signed(certificate) or index + 1 >= len(path):
            continue
        issuer = path[index + 1]
        name = certificate.subject.rfc4514_string()
        covering = [c for c in crls if _crl_signed_by(c, issuer)]
        if not covering:
            status = RevocationStatus.UNKNOWN if status is RevocationStatus.GOOD else status
            detail.append(Phrase("no CRL from its issuer was kept for {name}", name=name))
            continue
        for crl in covering:
            entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            issued = f"{crl.last_update_utc:%Y-%m-%dT%H:%M:%SZ}"
            if entry is None:
                detail.append(
                    Phrase("{name}: not revoked (CRL issued {issued})", name=name, issued=issued)
                )
                continue
            reason = _reason(entry)
            revoked_at = entry.revocation_date_utc
            when = f"{revoked_at:%Y-%m-%dT%H:%M:%SZ}"
            label = reason.value if reason is not None else Phrase("no reason given")
            values = {"name": name, "when": when, "reason": label, "issued": issued}
            if revoked_at <= gen_time or reason in _COMPROMISE:
                status = RevocationStatus.REVOKED
                detail.append(
                    Phrase("{name}: revoked {when} ({reason}; CRL issued {issued})", **values)
                )
            else:
                if status is not RevocationStatus.REVOKED:
                    status = RevocationStatus.REVOKED_LATER
                detail.append(
                    Phrase(
                        "{name}: revoked {when}, after genTime ({reason}; CRL issued {issued})",
                        **values,
                    )
                )
    detail.extend(stamp.revocation_notes)
    return status, tuple(detail)


def _reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags | None:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return None


def openssl_verify_command(
    *,
    data_file: str,
    response_file: str,
    ca_file: str,
    untrusted_file: str | None,
    gen_time: datetime | None,
    crl_check: bool = False,
) -> list[str]:
    """The `openssl ts -verify` command that checks the same token independently: `ca_file`
    holds the trusted root(s), and the CRLs in PEM when `crl_check`; `-attime` pins the check
    to genTime, as `verify_timestamp` does."""
    command = ["openssl", "ts", "-verify", "-data", data_file, "-in", response_file]
    command += ["-CAfile", ca_file]
    if untrusted_file is not None:
        command += ["-untrusted", untrusted_file]
    if gen_time is not None:
        command += ["-attime", str(int(gen_time.timestamp()))]
    if crl_check:
        command.append("-crl_check")
    return command
