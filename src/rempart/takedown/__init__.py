"""Take it down: who must act on a confirmed copy (this step), then notices, sending, tracking.

    registry = load_registry(settings.home)
    lookups = network_lookups(LookupSettings.for_home(settings.home))
    resolution = resolve(url, registry=registry, lookups=lookups, minor=case.minor)

`resolve` is what `notify plan` calls per confirmed copy; its recipients come in the order
they are to be notified, and its evidence holds every raw lookup answer with its digest.
"""

from rempart.takedown.answers import RawAnswer
from rempart.takedown.errors import (
    DnsError,
    NxDomainError,
    RdapError,
    RegistryError,
    ResolutionError,
    TakedownError,
)
from rempart.takedown.lookups import LookupSettings, network_lookups
from rempart.takedown.recipients import Channel, Recipient, Resolution, resolve
from rempart.takedown.registry import Platform, Registry, Role, load_registry

__all__ = [
    "Channel",
    "DnsError",
    "LookupSettings",
    "NxDomainError",
    "Platform",
    "RawAnswer",
    "RdapError",
    "Recipient",
    "Registry",
    "RegistryError",
    "Resolution",
    "ResolutionError",
    "Role",
    "TakedownError",
    "load_registry",
    "network_lookups",
    "resolve",
]
