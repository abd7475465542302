"""The declarative base every mapped table of the store derives from.

Nothing else: each stage's tables live in their own module of this package.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base"]


class Base(DeclarativeBase):
    pass
