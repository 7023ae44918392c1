"""Action tests: every custom action run in process with rasa_sdk's Tracker and CollectingDispatcher
against a real core (its own stack, database and Redis dbs). Run with .venv-bot's pytest."""
