"""Deterministic demo data: customers, staff, accounts, merchants and a year of card spending."""
