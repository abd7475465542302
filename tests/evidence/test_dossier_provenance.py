"""The complaint dossier built from the store carries each copy's provenance verdict and who
declared AI, on every database Rempart supports."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, update

from findings_made import make_finding
from rempart.config import Identity
from rempart.evidence.vault import Vault
from rempart.jobs.dossier import build_dossier
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import Finding, FindingStatus, Sighting


def _say(db: Database, finding: int, verdict: str, by: list[str]) -> None:
    reading = {"verdict": verdict, "declared_by": by, "reasons": [], "signals": []}
    with db.session() as session:
        sighting = session.scalar(select(Finding.sighting_id).where(Finding.id == finding))
        session.execute(
            update(Sighting)
            .where(Sighting.id == sighting)
            .values(provenance_verdict=verdict, provenance=json.dumps(reading))
        )


def test_the_dossier_takes_each_copys_stored_verdict_and_leaves_unread_copies_unread(
    db: Database, tmp_path: Path
) -> None:
    vault = Vault.open(tmp_path / "vault")
    made = [make_finding(db, vault, tmp_path, seed=i).finding for i in (1, 2, 3)]
    _say(db, made[0], "ai-declared", ["ComfyUI"])
    _say(db, made[1], "no-signal", [])
    for finding in made:
        decide(db, finding, FindingStatus.CONFIRMED, actor="camille")
    identity = Identity(name="Association Exemple", caseworker="Camille")
    (dossier,), _ = build_dossier(db, vault, "case-a", languages=("en",), identity=identity)
    by_id = {f.id: f for f in dossier.findings}
    assert (by_id[made[0]].provenance, by_id[made[0]].declared_by) == ("ai-declared", ("ComfyUI",))
    assert by_id[made[1]].provenance == "no-signal" and by_id[made[2]].provenance is None
    counts = dossier.provenance_counts()
    assert (counts.ai_declared, counts.no_signal, counts.not_read) == (1, 1, 1)
