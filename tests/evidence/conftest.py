"""Fixtures for sealing and verification: a demo time-stamping authority on 127.0.0.1, a fixed
sealing key, a tiny neutral capture and the bundle sealed from it. No internet."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sealing_support import (
    RecordingTimestamper,
    fixed_signing_key,
    make_capture,
    seal_sample,
)

from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.artifacts import Capture
from rempart.evidence.keys import SigningKey
from rempart.evidence.timestamps import TimestampAuthority, make_timestamper


@pytest.fixture(scope="session")
def local_tsa() -> Iterator[DemoTimestampAuthority]:
    with DemoTimestampAuthority.start() as tsa:
        yield tsa


@pytest.fixture(scope="session")
def tsa_authority(local_tsa: DemoTimestampAuthority) -> TimestampAuthority:
    return TimestampAuthority("demo", local_tsa.url, (local_tsa.root_pem,))


@pytest.fixture(scope="session")
def tsa_http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture(scope="session")
def recording_timestamper(
    tsa_authority: TimestampAuthority, tsa_http: httpx.Client
) -> RecordingTimestamper:
    return RecordingTimestamper(make_timestamper([tsa_authority], http=tsa_http))


@pytest.fixture(scope="session")
def sealing_key() -> SigningKey:
    return fixed_signing_key()


@pytest.fixture(scope="session")
def sample_capture() -> Capture:
    return make_capture()


@pytest.fixture(scope="session")
def sample_bundle(
    sample_capture: Capture,
    sealing_key: SigningKey,
    recording_timestamper: RecordingTimestamper,
) -> bytes:
    return seal_sample(sample_capture, sealing_key, recording_timestamper)
