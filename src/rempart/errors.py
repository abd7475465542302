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
    """Base of every error Rempart raises on purpose."""


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
