"""A DEMO RFC 3161 time-stamping authority on loopback, for tests and the offline demo only: a
throwaway test root CA no court would trust, a TSA certificate it issued, a CRL, and
`openssl ts -reply` answering each query.

Owns its temporary folder, its HTTP server and the openssl subprocess. Must not be used as a
real authority: its keys live in a temporary folder and its root is trusted by no one.

    with DemoTimestampAuthority.start() as tsa:
        tsa.url, tsa.crl_url, tsa.root_pem
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DEMO_TSA_POLICY", "DemoTimestampAuthority"]

_log = logging.getLogger(__name__)

DEMO_TSA_POLICY = "1.3.6.1.4.1.55555.1.1"  # a made-up policy OID: this authority is a demo
_MAX_QUERY = 16 * 1024  # a time-stamp query is a few hundred bytes
_MAX_DRAIN = 1024 * 1024  # larger bodies are refused without being read
_OPENSSL_TIMEOUT = 15.0
_DEMO_WARNING = "DEMO ONLY - trusted by no court"

_CONFIG = """\
# Rempart DEMO time-stamping authority: for tests and the offline demo only.
[ tsa ]
default_tsa = demo_tsa

[ demo_tsa ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rempart demo (not a real authority)"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _DEMO_WARNING),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass(frozen=True, slots=True)
class _DemoPki:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    tsa_key: ec.EllipticCurvePrivateKey
    tsa: x509.Certificate


def _make_pki(crl_url: str, now: datetime, tsa_valid: tuple[datetime, datetime]) -> _DemoPki:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Rempart DEMO root CA")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("Rempart DEMO time-stamping authority"))
        .issuer_name(root_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(tsa_valid[0])
        .not_valid_after(tsa_valid[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    return _DemoPki(root_key, root, tsa_key, tsa)


class _TsaServer(ThreadingHTTPServer):
    daemon_threads = True
    authority: DemoTimestampAuthority


class _TsaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RempartDemoTSA/1"
    timeout = 30

    def do_POST(self) -> None:
        authority = cast(_TsaServer, self.server).authority
        length = self.headers.get("Content-Length", "")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not length.isdigit() or int(length) > _MAX_DRAIN:
            self._send(413, b"query too large or without a length", "text/plain")
            return
        query = self.rfile.read(int(length))  # read even when refused: the client is sending
        if len(query) > _MAX_QUERY:
            self._send(413, b"query too large", "text/plain")
            return
        if content_type != "application/timestamp-query":
            self._send(415, b"expected application/timestamp-query", "text/plain")
            return
        try:
            reply = authority.reply(query)
        except (OSError, subprocess.SubprocessError) as exc:
            _log.warning("demo TSA could not answer: %s", exc.__class__.__name__)
            self._send(500, b"the demo authority failed", "text/plain")
            return
        self._send(200, reply, "application/timestamp-reply")

    def do_GET(self) -> None:
        authority = cast(_TsaServer, self.server).authority
        if self.path == "/crl":
            self._send(200, authority.crl_der(), "application/pkix-crl")
        elif self.path == "/root.pem":
            self._send(200, authority.root_pem, "application/x-pem-file")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        if status != 200:
            # An unread or refused body must not poison the next request: close, and say so,
            # so that the client never sends another request on a connection being closed.
            self.close_connection = True
            self.send_header("Connection", "close")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("demo TSA %s", format % args)


class DemoTimestampAuthority:
    """A DEMO time-stamping authority no court would trust: a test root CA, a TSA certificate
    (EKU timeStamping, critical) with a CRL distribution point on this server, and
    `openssl ts -reply` signing each query. Start it with `DemoTimestampAuthority.start()`.

    `revoke()` publishes a CRL that revokes the TSA certificate, to show what a verifier says
    about a revoked authority. `tsa_valid_from` / `tsa_valid_for` set the TSA certificate's
    validity window (an already expired or short-lived certificate, for tests)."""

    def __init__(self, server: _TsaServer, folder: Path, pki: _DemoPki, openssl: str) -> None:
        self._server = server
        self._folder = folder
        self._pki = pki
        self._openssl = openssl
        self._lock = threading.Lock()
        self._revoked: tuple[datetime, x509.ReasonFlags] | None = None
        self._crl = self._make_crl()

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        *,
        openssl: str = "openssl",
        tsa_valid_from: datetime | None = None,
        tsa_valid_for: timedelta = timedelta(days=365),
    ) -> Iterator[DemoTimestampAuthority]:
        """Serve on 127.0.0.1 (an ephemeral port) until the block ends; the temporary folder
        holding the demo keys is removed then."""
        binary = shutil.which(openssl)
        if binary is None:
            raise FileNotFoundError(f"the demo TSA needs the openssl command ({openssl})")
        now = datetime.now(UTC).replace(microsecond=0)
        valid_from = tsa_valid_from if tsa_valid_from is not None else now - timedelta(hours=1)
        server = _TsaServer(("127.0.0.1", 0), _TsaHandler)
        folder = Path(tempfile.mkdtemp(prefix="rempart-demo-tsa-"))
        thread: threading.Thread | None = None
        try:
            host, port = server.server_address[:2]
            origin = f"http://{host!s}:{port}"
            pki = _make_pki(f"{origin}/crl", now, (valid_from, valid_from + tsa_valid_for))
            authority = cls(server, folder, pki, binary)
            authority._write_files()
            server.authority = authority
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="rempart-demo-tsa",
                daemon=True,
            )
            thread.start()
            yield authority
        finally:
            if thread is not None:
                server.shutdown()
                thread.join()
            server.server_close()
            shutil.rmtree(folder, ignore_errors=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """Where queries are POSTed."""
        return f"{self.origin}/tsa"

    @property
    def crl_url(self) -> str:
        return f"{self.origin}/crl"

    @property
    def root_pem(self) -> bytes:
        """The DEMO root CA certificate (PEM): trust it only in tests and the demo."""
        return self._pki.root.public_bytes(serialization.Encoding.PEM)

    @property
    def root(self) -> x509.Certificate:
        return self._pki.root

    @property
    def tsa_certificate(self) -> x509.Certificate:
        return self._pki.tsa

    @property
    def tsa_pem(self) -> bytes:
        return self._pki.tsa.public_bytes(serialization.Encoding.PEM)

    def crl_der(self) -> bytes:
        with self._lock:
            return self._crl

    def revoke(
        self,
        *,
        at: datetime | None = None,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
    ) -> None:
        """From now on, the CRL served says the TSA certificate was revoked at `at`."""
        moment = at if at is not None else datetime.now(UTC) - timedelta(seconds=5)
        with self._lock:
            self._revoked = (moment.replace(microsecond=0), reason)
            self._crl = self._make_crl()

    def reply(self, query: bytes) -> bytes:
        """Answer one DER time-stamp query with `openssl ts -reply` (no shell, a timeout)."""
        with self._lock, tempfile.TemporaryDirectory(dir=self._folder) as work:
            query_file = Path(work) / "query.tsq"
            reply_file = Path(work) / "reply.tsr"
            query_file.write_bytes(query)
            subprocess.run(  # noqa: S603 - fixed argument list, no shell
                [
                    self._openssl,
                    "ts",
                    "-reply",
                    "-config",
                    str(self._folder / "openssl-ts.cnf"),
                    "-section",
                    "demo_tsa",
                    "-queryfile",
                    str(query_file),
                    "-out",
                    str(reply_file),
                ],
                check=True,
                capture_output=True,
                timeout=_OPENSSL_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
            return reply_file.read_bytes()

    def _write_files(self) -> None:
        key_pem = self._pki.tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key_file = self._folder / "tsa.key"
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        (self._folder / "tsa.pem").write_bytes(self.tsa_pem)
        (self._folder / "serial").write_text("01\n")
        (self._folder / "openssl-ts.cnf").write_text(
            _CONFIG.format(folder=self._folder, policy=DEMO_TSA_POLICY)
        )

    def _make_crl(self) -> bytes:
        now = datetime.now(UTC).replace(microsecond=0)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._pki.root.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=7))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        )
        if self._revoked is not None:
            moment, reason = self._revoked
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(self._pki.tsa.serial_number)
                .revocation_date(moment)
                .add_extension(x509.CRLReason(reason), critical=False)
                .build()
            )
        crl = builder.sign(self._pki.root_key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER)
