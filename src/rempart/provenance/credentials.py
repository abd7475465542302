"""C2PA Content Credentials read with c2pa-python, offline (no remote manifest, no OCSP):
who made the claim, who signed it, whether it validates, and what each action declares.
A manifest is not evidence of AI: cameras sign too."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from rempart.i18n import N_, Phrase
from rempart.provenance.signals import Signal, Verdict
from rempart.provenance.xmp import (
    AI_COMPOSITE,
    AI_GENERATED,
    AI_WEAK,
    CAPTURE,
    ENHANCED,
    source_type_code,
)

__all__ = ["C2paUnreadable", "c2pa_signals", "may_hold_manifest"]

_OFFLINE = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}
_EDIT_ACTIONS = {
    "c2pa.edited", "c2pa.filtered", "c2pa.color_adjustments", "c2pa.drawing",
    "c2pa.placed", "c2pa.removed", "c2pa.cropped", "c2pa.resized", "c2pa.transcoded",
    "c2pa.edited.metadata",
}  # fmt: skip
_MAX = 200
_VALIDATION = {
    "valid": N_("valid"),
    "untrusted": N_("intact, signer on no trust list"),
    "invalid": N_("invalid"),
}


class C2paUnreadable(ValueError):
    """A manifest store is present but cannot be read."""


def may_hold_manifest(data: bytes) -> bool:
    """A cheap test that spares the native reader files with no manifest store at all."""
    return b"c2pa" in data


def _validation(report: Mapping[str, Any], state: str | None) -> str:
    """`valid`, `untrusted` (intact but the signer is on no trust list) or `invalid`."""
    codes = [str(s.get("code", "")) for s in report.get("validation_status", []) or []]
    if (state or "").lower() == "invalid":
        return "invalid"
    if "signingCredential.untrusted" in codes:
        return "untrusted"
    return "valid"


def _generator(manifest: Mapping[str, Any]) -> str:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = info[0].get("name", ""), info[0].get("version", "")
        return f"{name} {version}".strip()[:_MAX]
    return str(manifest.get("claim_generator", ""))[:_MAX]


def _actions(manifest: Mapping[str, Any]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for assertion in manifest.get("assertions", []) or []:
        if not isinstance(assertion, dict):
            continue
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data")
        for action in (data.get("actions", []) if isinstance(data, dict) else []) or []:
            if isinstance(action, dict):
                entry = {"action": str(action.get("action", ""))[:_MAX]}
                if action.get("digitalSourceType"):
                    entry["digital_source_type"] = source_type_code(
                        str(action["digitalSourceType"])
                    )
                agent = action.get("softwareAgent")
                if isinstance(agent, dict):
                    agent = agent.get("name")
                if agent:
                    entry["software_agent"] = str(agent)[:_MAX]
                found.append(entry)
    return found


def _manifest_signal(manifest: Mapping[str, Any], validation: str) -> Signal:
    generator = _generator(manifest)
    sig = manifest.get("signature_info") or {}
    signer = str(sig.get("common_name") or sig.get("issuer") or "?")[:_MAX]
    actions = _actions(manifest)
    codes = {a["digital_source_type"] for a in actions if "digital_source_type" in a}
    details: dict[str, object] = {
        "claim_generator": generator,
        "signer": signer,
        "issuer": str(sig.get("issuer", ""))[:_MAX],
        "signed_at": str(sig.get("time", ""))[:_MAX],
        "validation": validation,
        "actions": actions,
    }
    by = f"{generator} (signed by {signer})" if generator else signer
    values: dict[str, object] = {
        "generator": generator or "?",
        "signer": signer,
        "validation": Phrase(_VALIDATION[validation]),
    }
    if codes & (AI_GENERATED | AI_COMPOSITE):
        code = sorted(codes & (AI_GENERATED | AI_COMPOSITE))[0]
        if validation == "invalid":
            text = Phrase(
                "Content Credentials by {generator}, signed by {signer}, declare AI ({code}); "
                "integrity broken: the picture changed after signing",
                code=code,
                **values,
            )
        else:
            text = Phrase(
                "Content Credentials by {generator}, signed by {signer} ({validation}), "
                "declare AI ({code})",
                code=code,
                **values,
            )
        return Signal("c2pa", text, Verdict.AI_DECLARED, by, details)
    if codes & AI_WEAK:
        text = Phrase(
            "Content Credentials by {generator}, signed by {signer} ({validation}), "
            "declare algorithmic media, possibly AI",
            **values,
        )
        return Signal("c2pa", text, Verdict.AI_SUSPECTED, by, details)
    edits = [a for a in actions if a["action"] in _EDIT_ACTIONS] or codes & ENHANCED
    if edits:
        text = Phrase(
            "Content Credentials by {generator}, signed by {signer} ({validation}), record "
            "edits and no AI",
            **values,
        )
        return Signal("c2pa", text, Verdict.EDITED, by, details)
    if codes & CAPTURE and validation != "invalid":
        text = Phrase(
            "Content Credentials by {generator}, signed by {signer} ({validation}), declare "
            "a capture by a camera",
            **values,
        )
        return Signal("c2pa", text, Verdict.CAMERA, by, details)
    text = Phrase(
        "Content Credentials by {generator}, signed by {signer} ({validation}), declare "
        "nothing about AI",
        **values,
    )
    return Signal("c2pa", text, None, by, details)


def c2pa_signals(data: bytes) -> list[Signal]:
    """One signal per manifest in the file's store (ingredients' manifests included).
    Raises C2paUnreadable when a store is there but cannot be read."""
    import c2pa

    try:
        context = c2pa.Context.from_dict(_OFFLINE)
        reader = c2pa.Reader.try_create(io.BytesIO(data), context=context)
        if reader is None:
            return []
        with reader:
            report = json.loads(reader.json())
            state = reader.get_validation_state()
    except c2pa.C2paError as exc:
        if isinstance(exc, c2pa.C2paError.NotSupported | c2pa.C2paError.ManifestNotFound):
            return []  # not a format that holds credentials, or none there
        raise C2paUnreadable(str(exc)[:_MAX]) from exc
    validation = _validation(report, state)
    manifests = report.get("manifests") or {}
    active = report.get("active_manifest")
    ordered = sorted(manifests.items(), key=lambda kv: kv[0] != active)
    return [_manifest_signal(m, validation) for _label, m in ordered if isinstance(m, dict)]
