"""The evidence core speaks French to a French caseworker and English everywhere else: each
error renders in French with `localized("fr")` while `str()` stays the English that logs and
tests read; verdict texts are Phrases, English as text and French on demand; and nothing a
sealed bundle holds depends on the language."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sealing_support import RecordingTimestamper, custody_for, seal_sample

from rempart.errors import EvidenceError, InputError, TimestampError
from rempart.evidence.artifacts import Capture
from rempart.evidence.authorities import load_authorities
from rempart.evidence.bundle import read_bundle, read_entries
from rempart.evidence.custody import parse_jsonl, to_jsonl, verify_chain
from rempart.evidence.keys import SigningKey
from rempart.evidence.timestamps import TimestampAuthority, request_timestamps
from rempart.evidence.vault import KEY_ENV, Vault
from rempart.i18n import Phrase, joined


def _french(exc: BaseException, *words: str) -> str:
    assert isinstance(exc, EvidenceError | InputError)
    french = exc.localized("fr")
    assert french != str(exc)
    for word in words:
        assert word in french, french
    return french


# ------------------------------------------------------------------------------- the vault


def test_a_vault_key_that_is_not_base64_is_refused_in_either_language(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError) as raised:
        Vault.open(tmp_path, env={KEY_ENV: "not base64!"})
    assert str(raised.value) == f"{KEY_ENV} is not base64"
    assert raised.value.localized("fr") == f"{KEY_ENV} n'est pas en base64"


def test_a_missing_vault_object_and_a_broken_key_file_are_said_in_french(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    with pytest.raises(EvidenceError) as raised:
        vault.get("bundles/case-1/capture-9.wacz")
    assert str(raised.value) == "no object 'bundles/case-1/capture-9.wacz' in the evidence vault"
    _french(raised.value, "aucun objet", "coffre", "capture-9.wacz")

    (tmp_path / "keys" / "vault.key").write_bytes(base64.b64encode(b"short") + b"\n")
    with pytest.raises(EvidenceError) as raised:
        Vault.open(tmp_path, env={})
    assert "does not hold 32 bytes" in str(raised.value)
    assert "ne contient pas 32 octets" in _french(raised.value)


def test_a_swapped_vault_object_fails_its_integrity_check_in_french(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    vault.put("one", b"first")
    vault.put("two", b"second")
    folder = tmp_path / "evidence"
    (folder / "one").write_bytes((folder / "two").read_bytes())
    with pytest.raises(EvidenceError, match="integrity check") as raised:
        vault.get("one")
    _french(raised.value, "contrôle d'intégrité", "'one'")


# ------------------------------------------------------------------- a tampered bundle


def test_a_tampered_bundle_is_refused_in_french_and_english(sample_bundle: bytes) -> None:
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(sample_bundle)) as archive:
        for info in archive.infolist():
            files[info.filename] = archive.read(info)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(EvidenceError) as raised:
        read_bundle(buffer.getvalue())
    english = str(raised.value)
    assert english.startswith("not a canonical Rempart bundle: not a canonical bundle: ")
    french = _french(raised.value, "ce n'est pas un scellé Rempart canonique", "non canonique")
    assert "not a canonical" not in french
    # The note kept for `verify` is English text that can be said again in French.
    note = read_entries(buffer.getvalue()).note
    assert isinstance(note, Phrase) and note.startswith("not a canonical bundle")
    assert note.localized("fr").startswith("scellé non canonique")


def test_a_broken_custody_log_names_its_line_in_french() -> None:
    with pytest.raises(EvidenceError) as raised:
        parse_jsonl(b'{"seq": 1}\n[]\n')
    assert str(raised.value).startswith("custody log line 1: fields must be exactly action")
    _french(raised.value, "journal de traçabilité, ligne 1", "les champs doivent")
    with pytest.raises(EvidenceError) as raised:
        parse_jsonl(b'{"seq": 1}')
    assert raised.value.localized("fr") == (
        "journal de traçabilité : la dernière ligne ne se termine pas par un saut de ligne"
    )


def test_an_edited_custody_event_is_reported_in_either_language(sample_capture: Capture) -> None:
    opened, captured = custody_for(sample_capture)
    edited = replace(opened, actor="mallory")
    check = verify_chain((edited, captured))
    assert not check.ok and check.detail == "its fields do not match its digest"
    assert isinstance(check.detail, Phrase)
    assert check.detail.localized("fr") == "ses champs ne correspondent pas à son empreinte"
    # An event whose detail breaks the encoding rules, read back from a log.
    line = to_jsonl((opened,)).replace(b'"detail":{', b'"detail":{"Bad Key":1,', 1)
    with pytest.raises(EvidenceError) as raised:
        parse_jsonl(line)
    assert "detail keys must match" in str(raised.value)
    _french(raised.value, "ligne 1", "les clés du détail doivent correspondre")


def test_sealing_with_a_chain_that_is_not_this_capture_s_says_so_in_french(
    sample_capture: Capture, sealing_key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    with pytest.raises(EvidenceError, match="custody chain must end") as raised:
        seal_sample(sample_capture, sealing_key, recording_timestamper, custody=())
    _french(raised.value, "chaîne de traçabilité", "ce constat")


def test_a_sealed_bundle_does_not_depend_on_the_language(
    sample_capture: Capture,
    sealing_key: SigningKey,
    recording_timestamper: RecordingTimestamper,
    sample_bundle: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    assert seal_sample(sample_capture, sealing_key, recording_timestamper) == sample_bundle


# -------------------------------------------------------------- time-stamping authorities


def test_a_broken_authorities_file_is_refused_in_french(tmp_path: Path) -> None:
    path = tmp_path / "authorities.toml"
    path.write_text("[[authority\nname = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable authorities file") as raised:
        load_authorities(path)
    _french(raised.value, "fichier d'autorités illisible")

    path.write_text('[[authority]]\nname = "Bad Name"\nurl = "http://x.test/"\n')
    with pytest.raises(InputError) as raised:
        load_authorities(path)
    assert str(raised.value) == (
        f"{path}, authority 1: authority name must match [a-z0-9-]{{1,40}}: 'Bad Name'"
    )
    assert raised.value.localized("fr") == (
        f"{path}, autorité 1 : le nom d'une autorité doit correspondre à [a-z0-9-]{{1,40}} : "
        "'Bad Name'"
    )

    path.write_text('[[authority]]\nname = "tsa"\nurl = "http://x.test/"\ncertificates = [1]\n')
    with pytest.raises(InputError) as raised:
        load_authorities(path)
    _french(raised.value, "autorité 1", "liste de noms de fichiers")


def test_authorities_that_all_fail_are_listed_in_french() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.test":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503)

    authorities = [
        TimestampAuthority("down", "http://down.test/tsa"),
        TimestampAuthority("busy", "http://busy.test/tsa"),
    ]
    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
        pytest.raises(TimestampError) as raised,
    ):
        request_timestamps(b"data", authorities, http=http)
    assert str(raised.value) == (
        "no authority gave a valid time-stamp: down: unreachable (ConnectError); busy: HTTP 503"
    )
    assert raised.value.localized("fr") == (
        "aucune autorité n'a fourni d'horodatage valide : "
        "down : injoignable (ConnectError) ; busy : HTTP 503"
    )
    with pytest.raises(TimestampError) as raised:
        request_timestamps(b"data", [], http=http)
    assert raised.value.localized("fr") == "aucune autorité d'horodatage n'est configurée"


def test_an_authority_with_a_bad_url_is_still_a_value_error() -> None:
    with pytest.raises(ValueError, match="URL") as raised:
        TimestampAuthority("ok", "ftp://x.test/")
    assert isinstance(raised.value, InputError)
    _french(raised.value, "l'adresse d'une autorité doit être en http(s)")


# ------------------------------------------------------------------------------ phrases


def test_a_phrase_is_its_english_as_text_and_french_on_demand() -> None:
    phrase = Phrase("event {expected} is missing", expected=4)
    assert phrase == "event 4 is missing"
    assert json.dumps({"note": phrase}) == '{"note": "event 4 is missing"}'
    assert phrase.localized("fr") == "l'événement 4 manque"
    both = joined([phrase, "as written"])
    assert both == "event 4 is missing; as written"
    assert both.localized("fr") == "l'événement 4 manque ; as written"
