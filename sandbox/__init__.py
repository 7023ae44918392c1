"""The provider sandbox: the project's own fake of bank rails, cards, crypto and KYC (docs/providers.md)."""
