"""NovelAI's signature on its pictures, checked offline: `signed_hash` in the comment is an
Ed25519 signature, by NovelAI's published key, over the RGB pixels followed by the comment's
JSON without `signed_hash` (as NovelAI's own verifier, nai_sig.py, rebuilds it). Pure: pixels
and text in, a status out; no key is ever fetched.
"""

from __future__ import annotations

import base64
import binascii
import json
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rempart.provenance.generators import MAX_TEXT

__all__ = ["NOVELAI_KEY", "Signature", "check_signature", "signed_comment"]

# NovelAI's public verification key (github.com/NovelAI/novelai-image-metadata).
NOVELAI_KEY = base64.b64decode("Y2JcQAOhLwzwSDUJPNgL04nS0Tbqm7cSRc4xk0vRMic=")


class Signature(StrEnum):
    VALID = "valid"
    """NovelAI's key signed these very pixels and this comment."""
    INVALID = "invalid"
    """A signature is there but does not verify: pixels or comment changed after signing (a
    re-encode, a resize, an edit), or it was forged."""
    ABSENT = "absent"
    UNVERIFIED = "unverified"
    """Not checked (the pixels were not decoded)."""


def signed_comment(text: str) -> tuple[dict[str, object], str] | None:
    """The comment object without `signed_hash`, and the signature's text; None when the
    comment carries no signature. A comment nested in `Comment` is unwrapped, as NovelAI
    does."""
    try:
        comment = json.loads(text[:MAX_TEXT])
        if isinstance(comment, dict) and isinstance(comment.get("Comment"), str):
            comment = json.loads(comment["Comment"][:MAX_TEXT])
    except (ValueError, RecursionError):
        return None
    if not isinstance(comment, dict) or not isinstance(comment.get("signed_hash"), str):
        return None
    signature = comment.pop("signed_hash")
    return comment, signature


def check_signature(rgb: bytes, comment_text: str, *, key: bytes | None = None) -> Signature:
    """Whether `key` (NovelAI's by default) signed the pixels `rgb` (8-bit RGB, row by row)
    with this comment."""
    found = signed_comment(comment_text)
    if found is None:
        return Signature.ABSENT
    comment, signature = found
    try:
        raw = base64.b64decode(signature.encode("ascii", errors="replace"), validate=True)
    except (binascii.Error, ValueError):
        return Signature.INVALID
    message = rgb + json.dumps(comment).encode("utf-8")
    try:
        Ed25519PublicKey.from_public_bytes(key or NOVELAI_KEY).verify(raw, message)
    except (InvalidSignature, ValueError):
        return Signature.INVALID
    return Signature.VALID
