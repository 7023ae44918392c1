"""Grants: what lets the assistant act for a customer, one conversation and one message at a time."""
