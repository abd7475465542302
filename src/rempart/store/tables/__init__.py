"""The store's mapped tables, one module per stage of the flow.

Import `rempart.store.models` for every table (Alembic, most code); a read that needs one
stage's tables only may import that stage's module alone, which maps fewer tables.
"""
