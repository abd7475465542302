"""Verification: one PASS / FAIL / NOT CHECKED line per check, offline and deterministic, in
French and English, saying what is proven and what is not; hostile input only ever gives FAIL
lines; and the hand-check script in docs/verify.md runs as documented."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sealing_support import fixed_signing_key, make_capture, seal_sample

from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.artifacts import Capture
from rempart.evidence.bundle import (
    DIGEST,
    MANIFEST,
    SEAL,
    SEAL_SIGNATURE,
    canonical_zip,
    read_bundle,
)
from rempart.evidence.custody import parse_time
from rempart.evidence.keys import SigningKey, spki_der
from rempart.evidence.timestamps import TimestampAuthority, make_timestamper
from rempart.evidence.verify import (
    Status,
    VerifyReport,
    render_report,
    report_json_text,
    report_to_json,
    verify_bundle,
)
from rempart.i18n import Messages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "verify.md"


def files_of(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rebuilt(bundle: bytes, **changes: bytes) -> bytes:
    """The bundle's files with some replaced, written back canonically (a careful forger)."""
    files = files_of(bundle)
    manifest = json.loads(files[MANIFEST])
    files.update(changes)
    return canonical_zip(files, parse_time(manifest["capture"]["started_at"]))


def statuses(report: VerifyReport) -> dict[str, Status]:
    return {check.id: check.status for check in report.checks}


@pytest.fixture(scope="module")
def trusted(
    sample_bundle: bytes, sealing_key: SigningKey, local_tsa: DemoTimestampAuthority
) -> VerifyReport:
    return verify_bundle(
        sample_bundle, trusted_keys=[sealing_key.fingerprint], tsa_roots=[local_tsa.root]
    )


def test_a_sealed_bundle_passes_every_check_with_trusted_key_and_root(
    trusted: VerifyReport,
) -> None:
    assert trusted.ok and trusted.trusted
    assert statuses(trusted) == {
        "container": Status.PASS,
        "inventory": Status.PASS,
        "datapackage": Status.PASS,
        "digest": Status.PASS,
        "signature": Status.PASS,
        "key_trust": Status.PASS,
        "seal": Status.PASS,
        "timestamp.1": Status.PASS,
        "timestamp.1.trust": Status.PASS,
        "timestamp.1.revocation": Status.PASS,
        "key_validity": Status.NOT_CHECKED,  # a bare fingerprint says nothing of its life
        "custody": Status.PASS,
        "acquisition": Status.PASS,
        "warc": Status.PASS,
    }
    assert trusted.facts["finding"] == "F-17"
    assert trusted.verdict == "pass" and trusted.exit_status == 0


def test_without_trust_anchors_the_bundle_is_intact_but_trust_is_not_checked(
    sample_bundle: bytes, sealing_key: SigningKey, local_tsa: DemoTimestampAuthority
) -> None:
    report = verify_bundle(sample_bundle)
    assert report.ok and not report.trusted
    assert report.verdict == "untrusted" and report.exit_status == 3
    text = render_report(report, Messages("en"))
    assert "Verdict: UNTRUSTED" in text and "Verdict: PASS" not in text
    assert "--trust-list" in text and "--tsa-root" in text
    assert "NON FIABLE" in render_report(report, Messages("fr"))
    assert json.loads(report_json_text(report))["verdict"] == "untrusted"
    assert report.check("key_trust").status is Status.NOT_CHECKED
    assert report.check("key_trust").values["fingerprint"] == sealing_key.fingerprint
    trust = report.check("timestamp.1.trust")
    assert trust.status is Status.NOT_CHECKED
    root_der = local_tsa.root.public_bytes(serialization.Encoding.DER)
    assert trust.values["root_fingerprint"] == hashlib.sha256(root_der).hexdigest()


def test_an_unknown_key_or_an_unknown_root_fails(
    sample_bundle: bytes, local_tsa: DemoTimestampAuthority
) -> None:
    with DemoTimestampAuthority.start() as other:
        report = verify_bundle(
            sample_bundle, trusted_keys=[fixed_signing_key("other").fingerprint],
            tsa_roots=[other.root],
        )  # fmt: skip
    assert not report.ok
    assert report.check("key_trust").status is Status.FAIL
    assert report.check("timestamp.1.trust").status is Status.FAIL


def test_verification_is_deterministic(
    sample_bundle: bytes, sealing_key: SigningKey, local_tsa: DemoTimestampAuthority
) -> None:
    reports = [
        report_json_text(
            verify_bundle(
                sample_bundle, trusted_keys=[sealing_key.fingerprint], tsa_roots=[local_tsa.root]
            )
        )
        for _ in range(2)
    ]
    assert reports[0] == reports[1]


def test_a_revocation_learnt_after_sealing_fails_the_bundle(
    sample_capture: Capture, sealing_key: SigningKey, tsa_http: httpx.Client
) -> None:
    with DemoTimestampAuthority.start() as tsa:
        stamper = make_timestamper([TimestampAuthority("demo", tsa.url, (tsa.root_pem,))],
                                   http=tsa_http)  # fmt: skip
        bundle = seal_sample(sample_capture, sealing_key, stamper)
        assert verify_bundle(bundle, tsa_roots=[tsa.root]).ok
        gen_time = read_bundle(bundle).timestamps[0].gen_time
        tsa.revoke(at=gen_time - timedelta(days=1))  # a key compromise found out later
        report = verify_bundle(bundle, tsa_roots=[tsa.root], crls=[tsa.crl_der()])
    assert report.check("timestamp.1").status is Status.FAIL
    assert "revoked" in report.check("timestamp.1").values["problems"]
    assert not report.ok


def test_an_unreadable_supplied_crl_leaves_revocation_not_checked(
    sample_bundle: bytes, local_tsa: DemoTimestampAuthority
) -> None:
    report = verify_bundle(sample_bundle, tsa_roots=[local_tsa.root], crls=[b"not a crl"])
    assert report.check("timestamp.1.revocation").status is Status.NOT_CHECKED
    assert report.ok


def test_a_rezipped_bundle_fails_the_container_check_only(sample_bundle: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files_of(sample_bundle).items():
            archive.writestr(name, data)
    report = verify_bundle(buffer.getvalue())
    assert not report.ok
    failed = {k for k, v in statuses(report).items() if v is Status.FAIL}
    assert failed == {"container"}


def test_a_replaced_picture_is_caught_even_if_the_zip_is_rebuilt(sample_bundle: bytes) -> None:
    report = verify_bundle(rebuilt(sample_bundle, **{"media/abc123.png": b"\x89PNG other"}))
    assert not report.ok
    assert report.check("datapackage").status is Status.FAIL
    assert "media/abc123.png" in report.check("datapackage").values["names"]
    assert report.check("acquisition").status is Status.FAIL
    assert report.check("container").status is Status.PASS


def test_a_bundle_resealed_with_another_key_is_not_trusted_and_its_timestamp_fails(
    sample_bundle: bytes, sealing_key: SigningKey
) -> None:
    forger = fixed_signing_key("forger")
    files = files_of(sample_bundle)
    digest = json.loads(files[DIGEST])
    signed = digest["signedData"]
    signed["signature"] = base64.b64encode(forger.sign(signed["hash"].encode())).decode()
    signed["publicKey"] = base64.b64encode(spki_der(forger.public_key)).decode()
    signed["fingerprint"] = forger.fingerprint
    new_digest = json.dumps(digest, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    seal = json.loads(files[SEAL])
    seal["publicKey"], seal["fingerprint"] = signed["publicKey"], forger.fingerprint
    for entry in seal["files"]:
        if entry["path"] == DIGEST:
            entry["sha256"] = hashlib.sha256(new_digest).hexdigest()
            entry["bytes"] = len(new_digest)
    new_seal = json.dumps(seal, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    forged = rebuilt(
        sample_bundle,
        **{DIGEST: new_digest, SEAL: new_seal, SEAL_SIGNATURE: forger.sign(new_seal)},
    )
    report = verify_bundle(forged, trusted_keys=[sealing_key.fingerprint])
    assert report.check("signature").status is Status.PASS  # internally consistent...
    assert report.check("seal").status is Status.PASS
    assert report.check("key_trust").status is Status.FAIL  # ...but not the organisation's key
    assert report.check("timestamp.1").status is Status.FAIL  # and stamped over other bytes
    assert not report.ok


def test_an_extra_file_is_caught(sample_bundle: bytes) -> None:
    report = verify_bundle(rebuilt(sample_bundle, **{"capture/extra.txt": b"added later"}))
    assert report.check("inventory").status is Status.FAIL
    assert "capture/extra.txt" in report.check("inventory").values["names"]
    assert not report.ok


# ------------------------------------------------------------------------------ wording


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["PASS", "What this proves", "What this does not prove", "person depicted"]),
        ("fr", ["RÉUSSI", "Ce que cela prouve", "Ce que cela ne prouve pas", "personne"]),
    ],
)
def test_the_report_says_what_is_proven_and_what_is_not(
    trusted: VerifyReport, lang: str, words: list[str]
) -> None:
    text = render_report(trusted, Messages(lang))
    for word in words:
        assert word in text
    assert trusted.facts["fingerprint"] in text
    assert "server" in text or "serveur" in text


def test_a_failed_report_says_it_proves_nothing(sample_bundle: bytes) -> None:
    broken = bytearray(sample_bundle)
    broken[len(broken) // 2] ^= 0xFF
    report = verify_bundle(bytes(broken))
    assert "proves nothing" in render_report(report, Messages("en"))
    assert "ne prouve rien" in render_report(report, Messages("fr"))
    assert "FAIL" in render_report(report, Messages("en"))
    assert "ÉCHEC" in render_report(report, Messages("fr"))


def test_the_json_form_carries_ids_statuses_and_messages(trusted: VerifyReport) -> None:
    document = json.loads(report_json_text(trusted, Messages("fr")))
    assert document["verdict"] == "pass" and document["trusted"] is True
    assert document["bundle"]["sha256"] == trusted.bundle_sha256
    ids = [check["id"] for check in document["checks"]]
    assert ids[0] == "container" and "timestamp.1" in ids
    assert all(check["status"] in {"pass", "fail", "not_checked"} for check in document["checks"])
    assert len(document["not_proven"]) == 4


def test_control_characters_from_a_hostile_bundle_never_reach_the_terminal(
    sample_bundle: bytes,
) -> None:
    files = files_of(sample_bundle)
    manifest = json.loads(files[MANIFEST])
    manifest["operator"] = "mallory\x1b[2J\x07"
    hostile = rebuilt(sample_bundle, **{MANIFEST: json.dumps(manifest).encode()})
    text = render_report(verify_bundle(hostile), Messages("en"))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\u001b" in text


# -------------------------------------------------------------------------- hostile input


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_fail_without_raising(data: bytes) -> None:
    report = verify_bundle(data)
    assert not report.ok
    render_report(report, Messages("fr"))
    json.dumps(report_to_json(report))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_mutated_bundles_fail_without_raising(sample_bundle: bytes, data: st.DataObject) -> None:
    bundle = bytearray(sample_bundle)
    operation = data.draw(st.sampled_from(["flip", "cut", "insert", "splice"]))
    position = data.draw(st.integers(0, len(bundle) - 1))
    if operation == "flip":
        bundle[position] ^= data.draw(st.integers(1, 255))
    elif operation == "cut":
        del bundle[position : position + data.draw(st.integers(1, 64))]
    elif operation == "insert":
        bundle[position:position] = data.draw(st.binary(min_size=1, max_size=32))
    else:
        length = data.draw(st.integers(1, 200))
        source = data.draw(st.integers(0, len(bundle) - 1))
        bundle[position : position + length] = sample_bundle[source : source + length]
    report = verify_bundle(bytes(bundle))
    if bytes(bundle) != sample_bundle:
        assert not report.ok
    render_report(report, Messages("en"))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [DIGEST, SEAL, SEAL_SIGNATURE, MANIFEST, "datapackage.json", "rempart/custody.jsonl",
             "archive/data.warc.gz", "rempart/timestamps/01-demo.tsr", "pages/pages.jsonl"]
        ),
        st.binary(max_size=200) | st.sampled_from([b"{}", b"[]", b"null", b'{"files":[{}]}']),
        min_size=1,
    )
)  # fmt: skip
def test_hostile_files_in_a_well_formed_zip_fail_without_raising(
    sample_bundle: bytes, changes: dict[str, bytes]
) -> None:
    report = verify_bundle(rebuilt(sample_bundle, **changes))
    assert not report.ok


# -------------------------------------------------------------------- docs/verify.md script


def _doc_scripts() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    scripts = re.findall(r"<!-- verify-script -->\n```bash\n(.*?)```", text, flags=re.S)
    assert len(scripts) == 2, "docs/verify.md must hold the script in English and in French"
    return scripts


def _run_doc_script(
    script: str, bundle: Path, root: Path, folder: Path
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "BUNDLE": str(bundle),
           "TSA_ROOT": str(root), "LC_ALL": "C"}  # fmt: skip
    return subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("bash", "unzip", "sha256sum", "openssl")),
    reason="the hand check needs bash, unzip, sha256sum and openssl",
)
@pytest.mark.parametrize("index", [0, 1], ids=["english", "french"])
def test_the_documented_hand_check_passes_a_sealed_bundle_and_fails_an_altered_one(
    sample_bundle: bytes,
    sealing_key: SigningKey,
    local_tsa: DemoTimestampAuthority,
    tmp_path: Path,
    index: int,
) -> None:
    script = _doc_scripts()[index]
    root = tmp_path / "root.pem"
    root.write_bytes(local_tsa.root_pem)
    good = tmp_path / "good.wacz"
    good.write_bytes(sample_bundle)
    (tmp_path / "a").mkdir()
    done = _run_doc_script(script, good, root, tmp_path / "a")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"fingerprint: {sealing_key.fingerprint}" in done.stdout
    assert done.stdout.count(": OK") >= 15  # every listed file, the digest, the time-stamp
    assert "Verification: OK" in done.stdout
    assert done.stdout.count("Signature Verified Successfully") == 2

    token = files_of(sample_bundle)["rempart/timestamps/01-demo.tsr"]
    for name, data in (
        ("media/abc123.png", b"\x89PNG replaced"),
        (SEAL_SIGNATURE, bytes(64)),
        ("rempart/timestamps/01-demo.tsr", token[:-1] + bytes([token[-1] ^ 1])),
    ):
        altered = tmp_path / "altered.wacz"
        altered.write_bytes(rebuilt(sample_bundle, **{name: data}))
        folder = tmp_path / f"b-{name.replace('/', '-')}"
        folder.mkdir()
        assert _run_doc_script(script, altered, root, folder).returncode != 0, name


def test_two_authorities_each_stamp_and_one_trusted_root_is_enough(
    sample_capture: Capture, sealing_key: SigningKey, tsa_http: httpx.Client
) -> None:
    with DemoTimestampAuthority.start() as first, DemoTimestampAuthority.start() as second:
        authorities = [
            TimestampAuthority("first", first.url, (first.root_pem,)),
            TimestampAuthority("second", second.url, (second.root_pem,)),
        ]
        bundle = seal_sample(
            sample_capture, sealing_key, make_timestamper(authorities, http=tsa_http)
        )
        both = verify_bundle(bundle, tsa_roots=[first.root, second.root])
        one = verify_bundle(bundle, tsa_roots=[second.root])
        with DemoTimestampAuthority.start() as stranger:
            none = verify_bundle(bundle, tsa_roots=[stranger.root])
    assert {"rempart/timestamps/01-first.tsr", "rempart/timestamps/02-second.tsr"} <= set(
        files_of(bundle)
    )
    assert both.ok and len(both.timestamps) == 2
    assert (
        statuses(both)["timestamp.1.trust"] is statuses(both)["timestamp.2.trust"] is (Status.PASS)
    )
    assert one.ok
    assert statuses(one)["timestamp.1.trust"] is Status.NOT_CHECKED
    assert statuses(one)["timestamp.2.trust"] is Status.PASS
    assert not none.ok and statuses(none)["timestamp.1.trust"] is Status.FAIL
    text = render_report(both, Messages("en"))
    assert "time-stamped by first" in text and "time-stamped by second" in text


# --------------------------------------------------------- `rempart verify`, in two languages


@pytest.fixture
def own_sealed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    recording_timestamper: Any,
    local_tsa: DemoTimestampAuthority,
) -> tuple[Path, str]:
    """A bundle sealed with this installation's own key ($REMPART_HOME/keys), stamped by the
    authority this installation lists."""
    from rempart.evidence.authorities import write_authorities
    from rempart.evidence.keys import Keyring

    monkeypatch.setenv("REMPART_HOME", str(tmp_path))
    monkeypatch.delenv("REMPART_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("REMPART_TSA_CONFIG", raising=False)
    (tmp_path / "demo-root.pem").write_bytes(local_tsa.root_pem)
    write_authorities(tmp_path / "authorities.toml", [("demo", local_tsa.url, ["demo-root.pem"])])
    keyring = Keyring(tmp_path / "keys")
    keyring.generate()
    key = keyring.signing_key()
    path = tmp_path / "own.wacz"
    path.write_bytes(seal_sample(make_capture(), key, recording_timestamper))
    return path, key.fingerprint


def test_the_installations_own_key_is_trusted_and_the_report_says_so(
    own_sealed: tuple[Path, str],
) -> None:
    from typer.testing import CliRunner

    from rempart.cli import app

    path, key = own_sealed
    runner = CliRunner()
    own = json.loads(runner.invoke(app, ["verify", str(path), "--json"]).stdout)
    (trust,) = [c for c in own["checks"] if c["id"] == "key_trust"]
    assert trust["status"] == "pass" and trust["values"]["origin"] == "own"
    assert "this installation's own sealing key" in trust["message"]
    alone = json.loads(runner.invoke(app, ["verify", str(path), "--json", "--no-own-keys"]).stdout)
    (trust,) = [c for c in alone["checks"] if c["id"] == "key_trust"]
    assert trust["status"] == "not_checked"
    given = runner.invoke(
        app, ["verify", str(path), "--json", "--no-own-keys", "--trust-key", key]
    ).stdout
    (trust,) = [c for c in json.loads(given)["checks"] if c["id"] == "key_trust"]
    assert trust["status"] == "pass" and "--trust-key" in trust["message"]


def test_the_french_report_is_french_through_and_through(own_sealed: tuple[Path, str]) -> None:
    from typer.testing import CliRunner

    from rempart.cli import app

    path, _key = own_sealed
    result = CliRunner().invoke(app, ["verify", str(path), "--lang", "fr"])
    text = result.stdout
    assert result.exit_code == 0
    assert "RÉUSSI" in text and "la clé de scellement de cette installation" in text
    for english in ("PASS", "not revoked", "CRL issued", "Constat :", "FAIL", "NOT CHECKED"):
        assert english not in text, english
    as_json = json.loads(CliRunner().invoke(app, ["verify", str(path), "--json"]).stdout)
    assert as_json["verdict"] == "pass"  # machine fields stay stable


def test_a_finding_reference_reads_as_a_copy_number_in_french() -> None:
    from rempart.evidence.verify import _fact

    assert _fact("finding", "finding:24", Messages("fr")) == "Copie trouvée : n° 24"
    assert _fact("finding", "finding:24", Messages("en")) == "Finding: finding 24"
