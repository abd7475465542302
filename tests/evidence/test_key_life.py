"""Attacks on the sealing keys: a copy of a retired key, a compromised key and a forger's own
key and time-stamping server must never give a trusted bundle. A key is trusted only for
bundles time-stamped within its life; without a trust anchor the verdict is UNTRUSTED."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sealing_support import RecordingTimestamper, fixed_signing_key, make_capture, seal_sample
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.errors import KeyringError
from rempart.evidence.authorities import write_authorities
from rempart.evidence.keys import Keyring, SigningKey, parse_key_list, signed_key_list
from rempart.evidence.timestamps import TimestampAuthority, make_timestamper
from rempart.evidence.verify import Status, verify_bundle


class SetClock:
    """A clock the test sets."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def now() -> datetime:
    return datetime.now(UTC)


def stolen_copy(ring: Keyring) -> SigningKey:
    """What an attacker copied from the keys folder while the key was active."""
    info = ring.active()
    pem = (ring.folder / f"ed25519-{info.fingerprint[:16]}.key").read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    return SigningKey(info, private)


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_tsa: DemoTimestampAuthority
) -> Path:
    """An installation with the demo authority configured (its root trusted)."""
    monkeypatch.setenv("REMPART_HOME", str(tmp_path))
    monkeypatch.delenv("REMPART_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("REMPART_TSA_CONFIG", raising=False)
    (tmp_path / "demo-root.pem").write_bytes(local_tsa.root_pem)
    write_authorities(tmp_path / "authorities.toml", [("demo", local_tsa.url, ["demo-root.pem"])])
    return tmp_path


@pytest.fixture
def stranger_tsa() -> Iterator[DemoTimestampAuthority]:
    with DemoTimestampAuthority.start() as tsa:
        yield tsa


def verify(*args: str) -> tuple[Result, dict[str, Any]]:
    result = CliRunner().invoke(app, ["verify", *args, "--json"])
    return result, json.loads(result.stdout)


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    (found,) = [c for c in report["checks"] if c["id"] == check_id]
    return found


def test_a_copy_of_a_retired_key_cannot_seal_a_trusted_bundle(
    home: Path, recording_timestamper: RecordingTimestamper
) -> None:
    ring = Keyring(home / "keys", clock=SetClock(now() - timedelta(hours=2)))
    ring.generate()
    copy = stolen_copy(ring)
    Keyring(home / "keys", clock=SetClock(now() - timedelta(hours=1))).rotate()
    forged = home / "forged.wacz"
    forged.write_bytes(seal_sample(make_capture(), copy, recording_timestamper))

    result, report = verify(str(forged))

    assert result.exit_code == 1 and report["verdict"] == "fail"
    assert check(report, "key_trust")["status"] == "pass"  # the key is known...
    validity = check(report, "key_validity")  # ...but it was retired before the time-stamp
    assert validity["status"] == "fail" and "RETIRED" in validity["message"]
    assert "never seal again" in validity["message"]


def test_a_bundle_sealed_before_rotation_stays_trusted_after_it(
    home: Path, recording_timestamper: RecordingTimestamper
) -> None:
    ring = Keyring(home / "keys")
    ring.generate()
    bundle = home / "old.wacz"
    bundle.write_bytes(seal_sample(make_capture(), ring.signing_key(), recording_timestamper))
    Keyring(home / "keys", clock=SetClock(now() + timedelta(minutes=10))).rotate()

    result, report = verify(str(bundle))

    assert result.exit_code == 0 and report["verdict"] == "pass"
    validity = check(report, "key_validity")
    assert (
        validity["status"] == "pass" and "proves the bundle existed before" in (validity["message"])
    )


def test_a_compromised_key_fails_what_it_sealed_after_the_compromise(
    home: Path, recording_timestamper: RecordingTimestamper
) -> None:
    Keyring(home / "keys", clock=SetClock(now() - timedelta(days=3))).generate()
    copy = stolen_copy(Keyring(home / "keys"))
    before = home / "before.wacz"
    before.write_bytes(seal_sample(make_capture(), copy, recording_timestamper))
    stamped = datetime.fromisoformat(verify(str(before))[1]["facts"]["first_timestamp"])
    Keyring(home / "keys", clock=SetClock(now() + timedelta(minutes=10))).rotate()
    # The thief seals again, stamped by the organisation's own authority: a real time-stamp.
    after = home / "after.wacz"
    after.write_bytes(seal_sample(make_capture(), copy, recording_timestamper,
                                  created=now() + timedelta(seconds=5)))  # fmt: skip
    runner = CliRunner()
    refused = runner.invoke(app, ["keys", "revoke", copy.fingerprint])
    assert refused.exit_code == 2 and "--compromised" in refused.output

    def revoke(since: datetime) -> None:
        result = runner.invoke(
            app, ["keys", "revoke", copy.fingerprint, "--compromised", "--since", since.isoformat()]
        )
        assert result.exit_code == 0 and "compromised" in result.output, result.output

    revoke(stamped + timedelta(seconds=1))
    kept, report = verify(str(before))
    assert kept.exit_code == 0, report  # an authority proves it predates the compromise
    validity = check(report, "key_validity")
    assert validity["status"] == "pass" and "existed before" in validity["message"]

    revoke(stamped)  # the compromise moves back: nothing proves either bundle predates it
    for path in (before, after):
        result, report = verify(str(path))
        assert result.exit_code == 1 and report["verdict"] == "fail"
        validity = check(report, "key_validity")
        assert validity["status"] == "fail" and "COMPROMISED" in validity["message"]
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout.splitlines()[0])
    assert listed["compromised_since"] == stamped.isoformat()


def test_revoking_the_active_key_asks_to_rotate_first(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    info = ring.generate()
    with pytest.raises(KeyringError, match="rotate it first"):
        ring.revoke(info.fingerprint)


def test_a_compromise_can_move_earlier_but_never_later(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    old = ring.generate()
    ring.rotate()
    first = ring.revoke(old.fingerprint, since=datetime(2025, 6, 1, tzinfo=UTC))
    later = ring.revoke(old.fingerprint, since=datetime(2025, 9, 1, tzinfo=UTC))
    earlier = ring.revoke(old.fingerprint, since=datetime(2025, 3, 1, tzinfo=UTC))
    assert first.compromised == later.compromised == datetime(2025, 6, 1, tzinfo=UTC)
    assert earlier.compromised == datetime(2025, 3, 1, tzinfo=UTC)
    assert ring.find(old.fingerprint).compromised == earlier.compromised
    ring.rotate()  # rotation keeps what is known of older keys
    assert ring.find(old.fingerprint).compromised == earlier.compromised


def test_a_forgers_own_key_and_authority_give_untrusted_and_a_distinct_exit(
    home: Path, stranger_tsa: DemoTimestampAuthority
) -> None:
    forger = fixed_signing_key("someone else entirely")
    with httpx.Client(timeout=10, trust_env=False) as http:
        stamps = make_timestamper(
            [TimestampAuthority("evil", stranger_tsa.url, (stranger_tsa.root_pem,))], http=http
        )
        forged = home / "forged.wacz"
        forged.write_bytes(seal_sample(make_capture(), forger, stamps))

    alone, report = verify(str(forged), "--no-own-keys")
    assert alone.exit_code == 3 and report["verdict"] == "untrusted" and report["intact"]
    text = CliRunner().invoke(app, ["verify", str(forged), "--no-own-keys"]).stdout
    assert "Verdict: UNTRUSTED" in text and "Verdict: PASS" not in text
    assert "--trust-list" in text  # says what to do
    french = CliRunner().invoke(app, ["verify", str(forged), "--no-own-keys", "--lang", "fr"])
    assert french.exit_code == 3 and "NON FIABLE" in french.stdout
    # With the organisation's keys as the anchor, the forger's key is named as unknown.
    Keyring(home / "keys").generate()
    anchored, report = verify(str(forged))
    assert anchored.exit_code == 1 and check(report, "key_trust")["status"] == "fail"
    # Naming the forger's key is not enough either: its authority's root is not trusted.
    given, report = verify(str(forged), "--no-own-keys", "--trust-key", forger.fingerprint)
    assert given.exit_code != 0


def test_the_published_key_list_carries_each_keys_life_and_is_signed(
    home: Path, recording_timestamper: RecordingTimestamper, local_tsa: DemoTimestampAuthority
) -> None:
    ring = Keyring(home / "keys", clock=SetClock(now() - timedelta(hours=2)))
    ring.generate()
    copy = stolen_copy(ring)
    Keyring(home / "keys", clock=SetClock(now() - timedelta(hours=1))).rotate()
    forged = home / "forged.wacz"
    forged.write_bytes(seal_sample(make_capture(), copy, recording_timestamper))
    fresh = home / "fresh.wacz"
    fresh.write_bytes(seal_sample(make_capture(), ring.signing_key(), recording_timestamper))
    exported = CliRunner().invoke(app, ["keys", "export", "--list"])
    assert exported.exit_code == 0, exported.output
    published = home / "keys.json"
    published.write_text(exported.stdout)
    listed = parse_key_list(published.read_bytes())
    assert [k.retired is not None for k in listed] == [True, False]
    root = home / "demo-root.pem"
    anchors = ["--no-own-keys", "--trust-list", str(published), "--tsa-root", str(root)]

    ok, report = verify(str(fresh), *anchors)
    assert ok.exit_code == 0 and check(report, "key_trust")["values"]["origin"] == "list"
    bad, report = verify(str(forged), *anchors)
    assert bad.exit_code == 1 and check(report, "key_validity")["status"] == "fail"

    # Someone edits the list to give the retired key back its life: the signature breaks.
    document = json.loads(published.read_text())
    document["keys"][0]["retired"] = None
    published.write_text(json.dumps(document))
    with pytest.raises(KeyringError, match="signature"):
        parse_key_list(published.read_bytes())
    edited = CliRunner().invoke(app, ["verify", str(forged), *anchors])
    assert edited.exit_code == 2 and "signature" in edited.output


def test_a_key_list_must_be_signed_by_one_of_its_keys(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    ring.generate()
    outsider = fixed_signing_key("outsider")
    with pytest.raises(KeyringError, match="not in the key list"):
        signed_key_list(ring.public_keys(), outsider, issued=now(), organisation="x")
    data = signed_key_list(ring.public_keys(), ring.signing_key(), issued=now(), organisation="x")
    assert verify_bundle(b"", key_lives=parse_key_list(data)).verdict == "fail"
    with pytest.raises(KeyringError):
        parse_key_list(b"{}")
    with pytest.raises(KeyringError):
        parse_key_list(data.replace(b'"x"', b'"y"'))


def test_a_time_stamp_earlier_than_the_keys_creation_is_refused(
    sample_bundle: bytes, sealing_key: SigningKey, local_tsa: DemoTimestampAuthority
) -> None:
    from dataclasses import replace

    claimed = replace(sealing_key.info, created=now() + timedelta(days=1))
    report = verify_bundle(
        sample_bundle,
        trusted_keys=[sealing_key.fingerprint],
        tsa_roots=[local_tsa.root],
        key_lives=[claimed],
    )
    assert report.check("key_validity").status is Status.FAIL and not report.ok
