"""RFC 3161 time-stamps from a real (demo) authority on 127.0.0.1: the full response, chain and
CRLs are kept; verification is offline, judged at genTime, and agrees with `openssl ts
-verify`; several authorities are asked and every valid answer kept; revoked and expired
authorities are caught."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rfc3161_client import decode_timestamp_response
from rfc3161_client._rust import parse_timestamp_request

from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.errors import TimestampError
from rempart.evidence.timestamps import (
    RevocationStatus,
    Timestamp,
    TimestampAuthority,
    build_request,
    openssl_verify_command,
    request_timestamps,
    verify_timestamp,
)

DATA = b'{"path":"datapackage.json","hash":"sha256:..."}\n'


def authority(tsa: DemoTimestampAuthority, name: str = "demo") -> TimestampAuthority:
    return TimestampAuthority(name, tsa.url, (tsa.root_pem,))


@pytest.fixture
def fresh_tsa() -> Iterator[DemoTimestampAuthority]:
    """An authority of its own, for tests that revoke it."""
    with DemoTimestampAuthority.start() as tsa:
        yield tsa


@pytest.fixture(scope="module")
def stamp(local_tsa: DemoTimestampAuthority, tsa_http: httpx.Client) -> Timestamp:
    (found,) = request_timestamps(DATA, [authority(local_tsa)], http=tsa_http)
    return found


def test_a_request_carries_a_sha256_imprint_a_nonce_and_asks_for_the_certificate() -> None:
    request = parse_timestamp_request(build_request(DATA))
    assert request.message_imprint.message == hashlib.sha256(DATA).digest()
    assert request.message_imprint.hash_algorithm.dotted_string == "2.16.840.1.101.3.4.2.1"
    assert request.nonce is not None and request.cert_req
    assert parse_timestamp_request(build_request(DATA)).nonce != request.nonce


def test_the_full_response_chain_and_crl_are_kept(
    stamp: Timestamp, local_tsa: DemoTimestampAuthority
) -> None:
    response = decode_timestamp_response(stamp.response)
    assert response.status == 0 and stamp.response == bytes(response.as_bytes())
    chain = [x509.load_der_x509_certificate(der) for der in stamp.chain]
    assert chain == [local_tsa.tsa_certificate, local_tsa.root]
    assert stamp.crls == (local_tsa.crl_der(),)
    assert stamp.revocation_notes == ()
    assert abs(stamp.gen_time - datetime.now(UTC)) < timedelta(minutes=2)


def test_the_token_verifies_offline_against_the_trusted_root(
    stamp: Timestamp, local_tsa: DemoTimestampAuthority
) -> None:
    verdict = verify_timestamp(stamp, DATA, roots=[local_tsa.root])
    assert verdict.valid, verdict.problems
    assert verdict.trusted is True
    assert verdict.revocation is RevocationStatus.GOOD
    assert verdict.gen_time == stamp.gen_time
    assert verdict.root_subject is not None and "DEMO" in verdict.root_subject
    assert verdict.tsa_subject is not None and "trusted by no court" in verdict.tsa_subject


def test_without_trusted_roots_the_verdict_names_the_root_it_chains_to(
    stamp: Timestamp, local_tsa: DemoTimestampAuthority
) -> None:
    verdict = verify_timestamp(stamp, DATA)
    assert verdict.valid and verdict.trusted is None
    assert verdict.root_fingerprint == local_tsa.root.fingerprint(hashes.SHA256()).hex()


def test_another_root_is_not_trusted(stamp: Timestamp, fresh_tsa: DemoTimestampAuthority) -> None:
    verdict = verify_timestamp(stamp, DATA, roots=[fresh_tsa.root])
    assert verdict.valid and verdict.trusted is False


def test_other_data_or_another_request_is_caught(
    stamp: Timestamp, local_tsa: DemoTimestampAuthority
) -> None:
    other = verify_timestamp(stamp, DATA + b" ", roots=[local_tsa.root])
    assert any("imprint" in p for p in other.problems)
    swapped = Timestamp(stamp.authority, stamp.url, build_request(DATA), stamp.response,
                        stamp.chain, stamp.crls)  # fmt: skip
    assert any("nonce" in p for p in verify_timestamp(swapped, DATA).problems)


def _openssl_files(stamp: Timestamp, root_pem: bytes, folder: Path) -> None:
    (folder / "digest.json").write_bytes(DATA)
    (folder / "token.tsr").write_bytes(stamp.response)
    (folder / "chain.pem").write_bytes(
        b"".join(
            x509.load_der_x509_certificate(d).public_bytes(serialization.Encoding.PEM)
            for d in stamp.chain
        )
    )
    crls = b"".join(
        x509.load_der_x509_crl(d).public_bytes(serialization.Encoding.PEM) for d in stamp.crls
    )
    (folder / "trusted.pem").write_bytes(root_pem + crls)


def _openssl(folder: Path, *, at: datetime | None) -> subprocess.CompletedProcess[str]:
    command = openssl_verify_command(
        data_file="digest.json",
        response_file="token.tsr",
        ca_file="trusted.pem",
        untrusted_file="chain.pem",
        gen_time=at,
        crl_check=True,
    )
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=30)


def test_openssl_ts_verify_agrees(
    stamp: Timestamp, local_tsa: DemoTimestampAuthority, tmp_path: Path
) -> None:
    _openssl_files(stamp, local_tsa.root_pem, tmp_path)
    done = _openssl(tmp_path, at=stamp.gen_time)
    assert done.returncode == 0, done.stderr
    assert "Verification: OK" in done.stdout
    (tmp_path / "digest.json").write_bytes(DATA + b" ")
    assert _openssl(tmp_path, at=stamp.gen_time).returncode != 0


def test_a_token_stays_valid_after_its_authority_certificate_expires(
    tsa_http: httpx.Client, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with DemoTimestampAuthority.start(
        tsa_valid_from=now - timedelta(seconds=2), tsa_valid_for=timedelta(seconds=5)
    ) as tsa:
        (found,) = request_timestamps(DATA, [authority(tsa)], http=tsa_http)
        expiry = tsa.tsa_certificate.not_valid_after_utc
        time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 1.1)
        assert datetime.now(UTC) > expiry
        verdict = verify_timestamp(found, DATA, roots=[tsa.root])
        assert verdict.valid and verdict.trusted, verdict.problems
        _openssl_files(found, tsa.root_pem, tmp_path)
        assert _openssl(tmp_path, at=found.gen_time).returncode == 0
        assert _openssl(tmp_path, at=None).returncode != 0  # "now" would say expired


def test_an_authority_whose_certificate_was_expired_at_gentime_is_refused(
    tsa_http: httpx.Client,
) -> None:
    now = datetime.now(UTC)
    with (
        DemoTimestampAuthority.start(
            tsa_valid_from=now - timedelta(days=2), tsa_valid_for=timedelta(days=1)
        ) as tsa,
        pytest.raises(TimestampError, match="not valid at genTime"),
    ):
        request_timestamps(DATA, [authority(tsa)], http=tsa_http)


def test_an_authority_revoked_before_stamping_is_refused(
    fresh_tsa: DemoTimestampAuthority, tsa_http: httpx.Client
) -> None:
    fresh_tsa.revoke()
    with pytest.raises(TimestampError, match="revoked"):
        request_timestamps(DATA, [authority(fresh_tsa)], http=tsa_http)


def test_a_revocation_published_after_stamping_is_reported_from_a_later_crl(
    fresh_tsa: DemoTimestampAuthority, tsa_http: httpx.Client
) -> None:
    (found,) = request_timestamps(DATA, [authority(fresh_tsa)], http=tsa_http)
    fresh_tsa.revoke(at=found.gen_time - timedelta(hours=1))  # a compromise found out later
    later = fresh_tsa.crl_der()
    verdict = verify_timestamp(found, DATA, roots=[fresh_tsa.root], crls=[later])
    assert verdict.revocation is RevocationStatus.REVOKED and not verdict.valid
    assert any("revoked" in p for p in verdict.problems)
    # The CRLs kept at stamping time alone still say "not revoked".
    assert verify_timestamp(found, DATA, roots=[fresh_tsa.root]).valid


def test_a_benign_revocation_after_gentime_does_not_void_the_token(
    fresh_tsa: DemoTimestampAuthority, tsa_http: httpx.Client
) -> None:
    (found,) = request_timestamps(DATA, [authority(fresh_tsa)], http=tsa_http)
    fresh_tsa.revoke(
        at=found.gen_time + timedelta(hours=1), reason=x509.ReasonFlags.cessation_of_operation
    )
    verdict = verify_timestamp(found, DATA, roots=[fresh_tsa.root], crls=[fresh_tsa.crl_der()])
    assert verdict.valid and verdict.revocation is RevocationStatus.REVOKED_LATER


def _routing_client(real: httpx.Client, *, crl_status: int = 200) -> httpx.Client:
    """Routes `refused.test` to a connection error, `garbage.test` to a bogus answer, CRL
    requests to `crl_status`, and everything else to the real demo authority."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "refused.test":
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.host == "garbage.test":
            return httpx.Response(200, content=b"\x30\x03\x02\x01\x00")
        if request.url.path == "/crl" and crl_status != 200:
            return httpx.Response(crl_status)
        answer = real.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, content=answer.content)

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_every_valid_answer_is_kept_and_failures_do_not_stop_the_others(
    local_tsa: DemoTimestampAuthority, fresh_tsa: DemoTimestampAuthority, tsa_http: httpx.Client
) -> None:
    authorities = [
        TimestampAuthority("refused", "http://refused.test/tsa"),
        authority(local_tsa, "first"),
        TimestampAuthority("garbage", "http://garbage.test/tsa"),
        authority(fresh_tsa, "second"),
    ]
    with _routing_client(tsa_http) as client:
        stamps = request_timestamps(DATA, authorities, http=client)
    assert [s.authority for s in stamps] == ["first", "second"]


def test_no_valid_answer_raises_with_each_authority_s_reason(tsa_http: httpx.Client) -> None:
    authorities = [
        TimestampAuthority("refused", "http://refused.test/tsa"),
        TimestampAuthority("garbage", "http://garbage.test/tsa"),
    ]
    with _routing_client(tsa_http) as client, pytest.raises(TimestampError) as raised:
        request_timestamps(DATA, authorities, http=client)
    assert "refused: unreachable" in str(raised.value)
    assert "garbage: unreadable answer" in str(raised.value)
    with pytest.raises(TimestampError, match="no time-stamping authority"):
        request_timestamps(DATA, [], http=tsa_http)


def test_an_unreachable_crl_is_recorded_plainly(
    local_tsa: DemoTimestampAuthority, tsa_http: httpx.Client
) -> None:
    with _routing_client(tsa_http, crl_status=503) as client:
        (found,) = request_timestamps(DATA, [authority(local_tsa)], http=client)
    assert found.crls == ()
    assert any("HTTP 503" in note for note in found.revocation_notes)
    assert any("revocation not checkable" in note for note in found.revocation_notes)
    verdict = verify_timestamp(found, DATA, roots=[local_tsa.root])
    assert verdict.valid and verdict.revocation is RevocationStatus.UNKNOWN


def test_authority_names_and_urls_are_checked() -> None:
    with pytest.raises(ValueError, match="name"):
        TimestampAuthority("Bad Name", "http://x.test/")
    with pytest.raises(ValueError, match="URL"):
        TimestampAuthority("ok", "ftp://x.test/")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_a_damaged_token_is_reported_never_raised(stamp: Timestamp, data: st.DataObject) -> None:
    """CMS leaves a few fields unsigned (SignedData and SignerInfo versions, algorithm
    identifiers): a change there may leave the token valid, but then what it attests (the
    signed TSTInfo) is unchanged. A bundle still catches such a change: its closing seal
    covers the bytes of the response."""
    response = bytearray(stamp.response)
    for _ in range(data.draw(st.integers(1, 4))):
        response[data.draw(st.integers(0, len(response) - 1))] ^= data.draw(st.integers(1, 255))
    damaged = Timestamp(stamp.authority, stamp.url, stamp.request, bytes(response), stamp.chain,
                        stamp.crls)  # fmt: skip
    verdict = verify_timestamp(damaged, DATA)
    if verdict.valid:
        signed = decode_timestamp_response(bytes(response)).tst_info.as_bytes()
        assert signed == decode_timestamp_response(stamp.response).tst_info.as_bytes()
        assert verdict.gen_time == stamp.gen_time


def test_unsigned_cms_fields_are_the_only_malleable_bytes_of_a_token(stamp: Timestamp) -> None:
    """Byte by byte: any change that keeps the token valid leaves its signed content intact."""
    original = decode_timestamp_response(stamp.response).tst_info.as_bytes()
    still_valid = 0
    for position in range(len(stamp.response)):
        response = bytearray(stamp.response)
        response[position] ^= 0xFF
        damaged = Timestamp(stamp.authority, stamp.url, stamp.request, bytes(response),
                            stamp.chain, stamp.crls)  # fmt: skip
        if verify_timestamp(damaged, DATA).valid:
            still_valid += 1
            assert decode_timestamp_response(bytes(response)).tst_info.as_bytes() == original
    assert still_valid < 40  # a few dozen bytes of versions and algorithm identifiers


def test_the_demo_authority_says_it_is_a_demo_and_refuses_what_is_not_a_query(
    local_tsa: DemoTimestampAuthority, tsa_http: httpx.Client
) -> None:
    assert "trusted by no court" in local_tsa.root.subject.rfc4514_string()
    assert tsa_http.get(local_tsa.crl_url).content == local_tsa.crl_der()
    assert tsa_http.get(f"{local_tsa.origin}/root.pem").content == local_tsa.root_pem
    wrong_type = tsa_http.post(local_tsa.url, content=build_request(DATA))
    assert wrong_type.status_code == 415
    too_big = tsa_http.post(
        local_tsa.url,
        content=bytes(20_000),
        headers={"Content-Type": "application/timestamp-query"},
    )
    assert too_big.status_code == 413
    garbage = tsa_http.post(
        local_tsa.url, content=b"garbage", headers={"Content-Type": "application/timestamp-query"}
    )
    assert garbage.status_code == 200  # RFC 3161: a refusal is an answer with a failure status
    assert decode_timestamp_response(garbage.content).status == 2  # rejection
    assert tsa_http.get(f"{local_tsa.origin}/nothing").status_code == 404
