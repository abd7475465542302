"""The list of cases: what `case_info` says of each case, in name order, read in a fixed
number of queries (the dashboard reads it on every request)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, update

from findings_made import make_finding
from rempart.intake.banks import create_bank
from rempart.intake.cases import case_info, create_case, list_cases
from rempart.store.database import Database
from rempart.store.models import Finding, FindingStatus


def test_list_cases_says_what_case_info_says_of_each_case(db: Database, tmp_path: Path) -> None:
    made = [make_finding(db, None, tmp_path, case="b-case", seed=s) for s in (1, 2, 3)]
    make_finding(db, None, tmp_path, case="a-case", seed=4)
    create_bank(db, "b-case-more", case="b-case")
    create_case(db, "c-empty", minor=True, description="no bank yet")
    with db.session() as session:
        session.execute(
            update(Finding)
            .where(Finding.id == made[0].finding)
            .values(status=FindingStatus.CONFIRMED)
        )
    listed = list_cases(db)
    assert [c.name for c in listed] == ["a-case", "b-case", "c-empty"]
    assert listed == [case_info(db, c.name) for c in listed]
    b = listed[1]
    assert (b.banks, b.findings, b.confirmed) == (("b-case-images", "b-case-more"), 3, 1)


def test_list_cases_reads_the_store_in_a_fixed_number_of_queries(
    db: Database, tmp_path: Path
) -> None:
    def queries_for_list() -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            list_cases(db)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    make_finding(db, None, tmp_path, case="case-0", seed=1)
    few = queries_for_list()
    for n in range(1, 8):
        make_finding(db, None, tmp_path, case=f"case-{n}", seed=n + 1)
    assert queries_for_list() == few
