"""Declarative base for the core's own tables (the ledger's tables belong to the ledger library)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
