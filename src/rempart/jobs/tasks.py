"""The pipeline's tasks on a distributed engine: Dramatiq, on Redis or RabbitMQ.

Importing this module binds Dramatiq to the broker named by REMPART_BROKER_URL
(redis://… or amqp://…); workers run `rempart worker`, which starts Dramatiq's worker
processes on this module. The task is the same scan the in-process runner does: scans are
idempotent and claim their source, so a redelivered or duplicated message does no harm.
"""

from __future__ import annotations

import logging
import os
from functools import cache

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from rempart.config import Settings
from rempart.errors import Conflict, InputError, NotFound
from rempart.evidence.vault import Vault
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database

__all__ = ["QUEUE", "broker_for", "scan"]

QUEUE = "rempart-scans"
_log = logging.getLogger(__name__)


def broker_for(url: str) -> dramatiq.Broker:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url=url)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        return RabbitmqBroker(url=url)
    raise InputError("REMPART_BROKER_URL must be redis://… or amqp://…, not {url!r}", url=url)


dramatiq.set_broker(broker_for(os.environ.get("REMPART_BROKER_URL", "redis://127.0.0.1:6379/0")))


@cache
def _worker() -> tuple[Database, Matcher, Vault]:
    """One database, matcher and vault per worker process, kept between tasks (the matcher
    follows bank changes from the item log instead of reloading)."""
    settings = Settings.from_env()
    db = Database.open(settings.database_url)
    return db, Matcher(db), Vault.open(settings.home)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, time_limit=6 * 3600 * 1000)
def scan(source_name: str) -> None:
    db, matcher, vault = _worker()
    try:
        days = Settings.from_env().seen_retention_days
        report = run_scan(db, matcher, source_name, vault=vault, seen_retention_days=days)
    except (Conflict, NotFound) as exc:  # being scanned elsewhere, or removed meanwhile
        _log.info("scan of %s skipped: %s", source_name, exc)
        return
    _log.info(
        "scan of %s: %d candidates, %d matched, %d problems (worker %d)",
        source_name,
        report.candidates,
        report.matched,
        report.problems,
        os.getpid(),
    )
