"""A finding recorded as a perceptual match of an altered copy (cropped borders, mirrored,
14 bits apart, corroborated by local features), as a scan would record one."""

from __future__ import annotations

import json

from rempart.store.database import Database
from rempart.store.models import Finding


def as_altered_pdq_match(db: Database, finding_id: int) -> None:
    with db.session() as session:
        row = session.get(Finding, finding_id)
        assert row is not None
        row.method, row.distance, row.threshold = "pdq", 14, 31
        row.window, row.variant = "trimmed", "flipy"
        row.detail = json.dumps({"corroborated_inliers": 52})
