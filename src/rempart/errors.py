"""The one error tree of Rempart. Library exceptions are translated where the library is called.

RempartError
 ├── InputError            bad input from outside: a file, a hash, a list line
 │    ├── InvalidHash      not a usable PDQ/MD5/SHA-256 value
 │    ├── ImageDecodeError a file that is not a readable, safe image
 │    └── HashListError    a hash list that cannot be read at all
 ├── EvidenceError         evidence could not be captured, sealed, stored or read back
 │    ├── CaptureError     the browser could not capture a page (refused, failed, too big)
 │    ├── TimestampError   no time-stamping authority gave a valid token
 │    └── KeyringError     the organisation's signing key is missing, locked or unusable
 ├── NotFound              a named bank, item or case does not exist
 ├── Conflict              the request contradicts what is stored (duplicate name...)
 └── StoreError            the database cannot be reached or migrated
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CaptureError",
    "Conflict",
    "EvidenceError",
    "HashListError",
    "ImageDecodeError",
    "InputError",
    "InvalidHash",
    "KeyringError",
    "NotFound",
    "RempartError",
    "StoreError",
    "TimestampError",
]


class RempartError(Exception):
    """Base of every error Rempart raises on purpose.

    The message is English and is the catalog's message id: with keyword values it is a
    template (`InputError("line {line}: {reason}", line=3, reason="...")`), so that
    `localized("fr")` renders the same error in French. `str()` is always the English text.
    """

    def __init__(self, message: str = "", /, *args: object, **values: Any) -> None:
        self.template = message
        self.values = values
        super().__init__(_translated(message, "en", values) if values else message, *args)

    def localized(self, lang: str | None = None) -> str:
        """The message in `lang` (default: the current language), values rendered likewise."""
        if not self.template:
            return str(self)
        if self.values:
            return _translated(self.template, lang, self.values)
        return _translated(self.template, lang, {})


def _translated(message: str, lang: str | None, values: dict[str, Any]) -> str:
    from rempart.i18n import gettext

    return gettext(message, lang=lang, **values)


class InputError(RempartError):
    """Input from outside Rempart is malformed, unsafe or unsupported."""


class InvalidHash(InputError):
    """A hash value is malformed (length, alphabet) or degenerate (all zeros, all ones)."""


class ImageDecodeError(InputError):
    """A file cannot be decoded safely as an image."""


class HashListError(InputError):
    """A hash list cannot be read at all (unknown format, unreadable file)."""


class NotFound(RempartError):
    """A named thing does not exist."""


class Conflict(RempartError):
    """The request contradicts stored state."""


class StoreError(RempartError):
    """The store cannot be reached, created or migrated."""


class EvidenceError(RempartError):
    """Evidence could not be captured, sealed, stored or read back."""


class CaptureError(EvidenceError):
    """The browser could not capture a page: refused address, load failure, limits."""


class TimestampError(EvidenceError):
    """No configured time-stamping authority returned a valid RFC 3161 token."""


class KeyringError(EvidenceError):
    """The organisation's signing key is missing, locked or unusable."""
