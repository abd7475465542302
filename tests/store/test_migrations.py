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
