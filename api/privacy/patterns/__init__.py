"""Regex rule sets for the bank's own PII recognizers (Presidio's built-ins cover the rest)."""
