"""The takedown stage's errors: a wrong registry file, a lookup that gave no usable answer.

TakedownError (a RempartError)
 ├── RegistryError     a platforms file that cannot be used (its path, line and key named)
 └── ResolutionError   a URL or a lookup that gave no usable answer; kept as a value
      ├── DnsError     no answer, garbage, timeout
      │    └── NxDomainError   the name does not exist
      └── RdapError    refused, not JSON, too big, too slow, no endpoint

Only messages for people live here: the stage's code raises them with template values.
"""

from __future__ import annotations

from rempart.errors import RempartError

__all__ = [
    "DnsError",
    "NxDomainError",
    "RdapError",
    "RegistryError",
    "ResolutionError",
    "TakedownError",
]


class TakedownError(RempartError):
    """Something in finding who must act, or telling them, went wrong."""


class RegistryError(TakedownError):
    """A platforms file is malformed: the message names its path, line and key."""


class ResolutionError(TakedownError):
    """A URL could not be resolved, or one lookup gave no usable answer."""


class DnsError(ResolutionError):
    """A DNS query gave no usable answer."""


class NxDomainError(DnsError):
    """The name does not exist (NXDOMAIN): nothing more to ask DNS about it."""


class RdapError(ResolutionError):
    """An RDAP query gave no usable answer."""
