"""Start Rasa after checking its secrets: `rasa` with the same arguments, run with .venv-bot's Python.

    python -m scripts.rasa_serve run --model var/models/current.tar.gz --endpoints bot/endpoints.yml \\
        --credentials bot/credentials.yml --port 5005 --enable-api

For `rasa run` (the server; not `rasa run actions`, not training) it first resolves the secrets Rasa
reads: ACTION_SERVER_TOKEN and TRANSCRIPT_INGEST_SECRET (bot/endpoints.yml expands them from the
environment) and, with `--enable-api`, RASA_API_TOKEN. The environment's values win; in development the
others come from var/secrets.env (generated once) and are put into this process's environment; with
ENVIRONMENT=production a missing, short or development value stops it here, before TensorFlow or a model
is loaded, with a message naming the secret (scripts/environment.py, docs/operations.md).

With `--enable-api` and no `--auth-token`, the token is RASA_API_TOKEN, added to the arguments inside this
process, so it never shows in `ps` (a command-line `--auth-token` is still accepted, and checked).
Then it hands over to `rasa.__main__.main()`, which sees exactly the arguments `rasa` would have.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from scripts import environment

WHO = "Rasa"


def _option(argv: list[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def prepare(argv: list[str], environ: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The arguments to hand to Rasa and the secrets to add to its environment; SecretsError if unusable."""
    environ = dict(os.environ if environ is None else environ)
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return list(argv), {}
    names = ["ACTION_SERVER_TOKEN", "TRANSCRIPT_INGEST_SECRET"]
    api = "--enable-api" in argv
    explicit_token = _option(argv, "--auth-token")
    if api:
        names.append("RASA_API_TOKEN")
        if explicit_token is not None:  # checked as the token it is, whatever the environment holds
            environ["RASA_API_TOKEN"] = explicit_token
    values = environment.require(names, who=WHO, environ=environ)
    argv = list(argv)
    if api and explicit_token is None:
        argv += ["--auth-token", values["RASA_API_TOKEN"]]
    return argv, values


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        argv, values = prepare(argv)
    except environment.SecretsError as exc:
        sys.exit(str(exc))
    environment.export(values)  # bot/endpoints.yml reads ${ACTION_SERVER_TOKEN} and ${TRANSCRIPT_INGEST_SECRET}
    sys.argv = ["rasa", *argv]
    from rasa.__main__ import main as rasa_main  # imported only now: TensorFlow takes seconds to load

    sys.exit(rasa_main())


if __name__ == "__main__":
    main()
