"""The notice as a value: which elements it must hold (DSA 16(2) a–d, TAKE IT DOWN), its text
in French and English, and the exact e-mail (no picture, hostile text neutralised)."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rempart.config import Identity
from rempart.takedown.notices import (
    Copy,
    LegalBasis,
    NoticeFacts,
    NoticeKind,
    blocking,
    checks,
    clean,
    due_after,
    form_fields,
    message_bytes,
    render,
)

SENDER = Identity(name="Asso Rempart", email="contact@asso.example", caseworker="Alice B.")
FACTS = NoticeFacts(
    kind=NoticeKind.DSA,
    case="case-0142",
    recipient_name="Demo Forum",
    recipient_role="host",
    recipient_channel="email",
    recipient_address="abuse@forum.example",
    legal_basis=LegalBasis.LEAK,
    language="en",
    copies=(
        Copy(
            "https://forum.example/a/1.jpg", "a" * 64, 1, "https://forum.example/t/1", 7, "b" * 64
        ),
        Copy("https://forum.example/a/2.jpg", "c" * 64, 2),
    ),
    sender=SENDER,
    notice=3,
)


def _codes(facts: NoticeFacts) -> dict[str, bool]:
    return {c.code: c.ok for c in checks(facts)}


def test_a_complete_dsa_notice_passes_every_16_2_element() -> None:
    codes = _codes(FACTS)
    assert [codes[c] for c in ("16(2)(a)", "16(2)(b)", "16(2)(c)", "16(2)(d)")] == [True] * 4
    assert not blocking(checks(FACTS))
    assert codes["evidence"] is False  # one copy has no sealed capture: advice only


def test_without_the_notifiers_email_approval_is_blocked() -> None:
    facts = replace(FACTS, sender=replace(SENDER, email=""))
    assert [c.code for c in blocking(checks(facts))] == ["16(2)(c)"]


def test_a_copy_without_a_web_address_blocks_16_2_b() -> None:
    facts = replace(FACTS, copies=(Copy("t.me/c/1", "a" * 64),))
    assert "16(2)(b)" in [c.code for c in blocking(checks(facts))]


def test_take_it_down_needs_a_signature_and_contact() -> None:
    facts = replace(FACTS, take_it_down=True, sender=replace(SENDER, caseworker=""))
    assert [c.code for c in blocking(checks(facts))] == ["tida:signature"]
    text = render(replace(facts, sender=SENDER)).body
    assert "/s/ Alice B." in text and "48 hours" in text and "identical copies" in text


def test_a_hotline_report_needs_no_notifier_and_carries_references_only() -> None:
    facts = replace(
        FACTS, kind=NoticeKind.HOTLINE, references_only=True, sender=replace(SENDER, email="")
    )
    assert not blocking(checks(facts))
    assert "No picture is attached to this report" in render(facts).body


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_template_states_good_faith_cites_the_ground_and_lists_digests(lang: str) -> None:
    for kind in NoticeKind:
        for basis in LegalBasis:
            text = render(replace(FACTS, kind=kind, legal_basis=basis), lang)
            assert ("bonne foi" if lang == "fr" else "good faith") in text.body
            assert basis.value in text.body
            assert "a" * 64 in text.body and "https://forum.example/a/2.jpg" in text.body
            assert "case-0142" in text.subject


def test_trusted_flagger_status_and_designation_appear_when_it_has_one() -> None:
    flagger = replace(SENDER, trusted_flagger=True, designation="ARCOM-2025-07")
    assert "ARCOM-2025-07" in render(replace(FACTS, sender=flagger), "en").body
    assert "trusted flagger" not in render(FACTS, "en").body


def test_hostile_text_cannot_reorder_or_inject_lines() -> None:
    assert clean("https://x.example/\u202egpj.exe\x1b[31m") == "https://x.example/gpj.exe[31m"
    facts = replace(
        FACTS,
        recipient_name="Evil\r\nBcc: all@example.org",
        copies=(Copy("https://x.example/\u202e1.jpg\r\nBcc: x@y", "a" * 64),),
    )
    data = message_bytes(
        facts,
        render(facts),
        sender="n@asso.example",
        message_id="<notice-3.k@asso.example>",
        date=datetime(2026, 12, 6, tzinfo=UTC),
    )
    message = email.message_from_bytes(data)
    assert message["Bcc"] is None
    assert "\u202e" not in message.get_payload(decode=True).decode()


def test_the_email_is_plain_text_with_its_message_id_and_no_attachment() -> None:
    data = message_bytes(
        FACTS,
        render(FACTS),
        sender="notices@asso.example",
        message_id="<notice-3.k@asso.example>",
        date=datetime(2026, 12, 6, tzinfo=UTC),
    )
    message = email.message_from_bytes(data)
    assert message["Message-ID"] == "<notice-3.k@asso.example>"
    assert message["Reply-To"] == "contact@asso.example"
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    data.decode("ascii")  # 7-bit clean: any server takes it


def test_due_dates_48_hours_under_take_it_down_72_under_the_dsa() -> None:
    sent = datetime(2026, 12, 6, 10, tzinfo=UTC)
    assert due_after(NoticeKind.DSA, True, sent) == sent + timedelta(hours=48)
    assert due_after(NoticeKind.DSA, False, sent) == sent + timedelta(hours=72)
    assert due_after(NoticeKind.PHAROS, False, sent) is None


def test_web_form_answers_come_in_the_forms_order() -> None:
    labels = [label for label, _value in form_fields(FACTS, "en")]
    assert labels[:5] == ["Reporter", "Trusted flagger", "E-mail", "Phone", "URLs"]
    french = dict(form_fields(FACTS, "fr"))
    assert "Code pénal, art. 226-2-1" in french["Fondement juridique"]
