from sqlalchemy import text

from rempart.store.database import Database
from rempart.store.models import Base


def test_migrations_create_every_model_table(db: Database) -> None:
    assert set(Base.metadata.tables) <= set(db.table_names())


def test_migrations_run_down_to_empty_and_back_up(db: Database) -> None:
    db.downgrade("base")
    assert db.table_names() == ["alembic_version"]
    db.upgrade("head")
    assert {"banks", "items", "item_events"} <= set(db.table_names())


def test_opening_twice_is_harmless(db: Database) -> None:
    db.upgrade("head")
    db.upgrade("head")
    assert "banks" in db.table_names()


def test_migrations_match_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrading_a_store_keeps_its_rows(db: Database) -> None:
    # A SQLite batch migration rebuilds a table: with foreign keys on, dropping the old
    # `banks` ran ON DELETE CASCADE and emptied `items` (seen with migration 0015).
    db.downgrade("0004")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO banks (id, name, kind, threshold, quality_min, description, "
                "created_at) VALUES (1, 'b', 'protect', 31, 50, '', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO items (id, bank_id, pdq, quality, label, origin, media, "
                f"created_at) VALUES (1, 1, '{'f8' * 32}', 90, '', 'list', 'image', "
                "'2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO item_signals (item_id, kind, label, pdq, quality) "
                f"VALUES (1, 'crop', 'c', '{'0f' * 32}', 90)"
            )
        )
    db.upgrade("head")
    with db.engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("banks", "items", "item_signals")
        ]
    assert counts == [1, 1, 1]
