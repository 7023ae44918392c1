"""Secrets and environments, shared by every service (the core, the action server, Rasa, scripts.stack).

    python -m scripts.environment list                 # every secret: who reads it, minimum length, format
    python -m scripts.environment check [SERVICE ...]  # exit 1 naming each unusable secret (never its value)
    python -m scripts.environment generate NAME        # print a fresh value in the right format for NAME
    python -m scripts.environment init                 # development: create var/secrets.env if missing

`ENVIRONMENT` is `development` (the default: `make up`, the tests) or `production`.

* development: a secret not set in the environment comes from `var/secrets.env` (`NAME=value` lines,
  mode 0600, git ignores var/), generated once with random values by whichever process needs it first.
  Creation is race-safe: a complete temporary file is hard-linked into place, which fails if another
  process got there first, and then everyone re-reads the one file. A secret added to SECRETS later is
  appended under a lock. `BANKBOT_SECRETS_FILE` moves the file (the tests point it at a temporary directory).
* production: the file is never read or written. A secret that is missing, shorter than its minimum, in the
  wrong format or a development value (starts with `dev-only`, is the demo password, a placeholder) is
  refused, and the service does not start; the message names the secret and how to generate one.

The environment always wins over the file. Stdlib only, Python 3.10+: it is imported by the core (.venv,
api/config.py), the action server and the Rasa wrapper (.venv-bot), and scripts.stack before any venv.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS_FILE = ROOT / "var" / "secrets.env"
FILE_ENV_VAR = "BANKBOT_SECRETS_FILE"
DEVELOPMENT, PRODUCTION = "development", "production"
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)
DOCS = "docs/operations.md"

TOKEN_COMMAND = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'  # noqa: S105 - a command, not a secret
FERNET_COMMAND = 'python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'

# Values that are public: the old in-code defaults, the demo logins' password, placeholders from examples.
DEVELOPMENT_PREFIX = "dev-only"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the public demo password, refused as a secret in production
PLACEHOLDERS = ("change-me", "changeme", "replace-me", "your-secret", "example")
MIN_DISTINCT_CHARACTERS = 8  # a random value of 32+ characters has far more; "aaaa..." is a placeholder


class SecretsError(RuntimeError):
    """A secret is unusable here (production: missing, short, malformed or a development value).

    A RuntimeError rather than a ValueError on purpose: pydantic turns ValueErrors raised in validators into
    a ValidationError that prints the input (the secrets themselves); this passes through unchanged.
    """


@dataclass(frozen=True)
class Secret:
    name: str
    readers: tuple[str, ...]  # the services that need it: "core", "actions", "rasa" (scripts.stack's names)
    purpose: str
    rotation: str
    min_length: int = 32
    kind: str = "token"  # "token": any string (generated with token_urlsafe(32)); "fernet": Fernet key list
    optional: bool = False  # only checked when set, unless `required_when` names a setting that is on
    required_when: str | None = None

    @property
    def generate_command(self) -> str:
        return FERNET_COMMAND if self.kind == "fernet" else TOKEN_COMMAND


# Every secret of the platform. Adding a service: list it in `readers` of the secrets it needs, and
# scripts.stack hands exactly those to it. docs/operations.md explains each one.
SECRETS: tuple[Secret, ...] = (
    Secret("JWT_SECRET", ("core",), "signs and verifies the core's access tokens (HS256)",
           "restart the core with the new value; access tokens signed with the old one stop working "
           "(they live ACCESS_TOKEN_MINUTES), refresh tokens are kept"),
    Secret("SERVICE_CLIENT_SECRET", ("core", "actions"),
           "the action server's password when it signs in to the core as the `service` principal",
           "restart the core and the action server together"),
    Secret("KYC_WEBHOOK_SECRET", ("core", "sandbox"), "HMAC key of the identity-verification provider's webhooks",
           "set the new value at the provider and in the core at the same time"),
    Secret("RAILS_WEBHOOK_SECRET", ("core", "sandbox"), "HMAC key of the bank rails provider's webhooks",
           "set the new value at the provider and in the core at the same time"),
    Secret("CARDS_WEBHOOK_SECRET", ("core", "sandbox"), "HMAC key of the card processor's webhooks",
           "set the new value at the provider and in the core at the same time"),
    Secret("CRYPTO_WEBHOOK_SECRET", ("core", "sandbox"), "HMAC key of the crypto gateway's webhooks",
           "set the new value at the provider and in the core at the same time"),
    Secret("PROVIDER_API_KEY", ("core", "worker", "sandbox"),
           "bearer key the core and the saga workers send to the payment, crypto and KYC providers",
           "issue a new key at each provider, restart the core and the workers, then revoke the old key"),
    Secret("TRANSCRIPT_INGEST_SECRET", ("core", "rasa"),
           "HMAC key Rasa's event broker signs transcript batches with; the core verifies it",
           "restart the core and Rasa together; batches signed in between are retried by the broker"),
    Secret("RASA_API_TOKEN", ("core", "rasa"),
           "Rasa's HTTP API token (`--auth-token`), used by the core to log messages and end handoffs",
           "restart Rasa and the core together"),
    Secret("ACTION_SERVER_TOKEN", ("actions", "rasa"),
           "bearer token Rasa sends to the action server, which answers no one else",
           "restart the action server and Rasa together"),
    # Messaging channels (api/channels, docs/channels.md). A deployment without a channel sets random values.
    Secret("TELEGRAM_WEBHOOK_SECRET", ("core",),
           "Telegram's `secret_token` (setWebhook): the core accepts a Telegram update only with it",
           "call setWebhook with the new secret_token and restart the core at the same time"),
    Secret("SLACK_SIGNING_SECRET", ("core",), "verifies Slack's X-Slack-Signature on events and interactions",
           "regenerate it in the Slack app's Basic Information page and restart the core"),
    Secret("TWILIO_AUTH_TOKEN", ("core", "worker", "sandbox"),
           "verifies Twilio's X-Twilio-Signature and is the password of the core's calls to Twilio's API",
           "promote Twilio's secondary auth token, set it in the core and the workers, restart them"),
    Secret("TELEGRAM_BOT_TOKEN", ("core", "worker", "sandbox"), "the Telegram bot's token (sendMessage)",
           "/revoke it with @BotFather, set the new one in the core and the workers, restart them"),
    Secret("SLACK_BOT_TOKEN", ("core", "worker", "sandbox"),
           "the Slack app's bot token (xoxb-..., scope chat:write) for chat.postMessage",
           "reinstall the app or rotate the token, set it in the core and the workers, restart them"),
    Secret("PII_ENCRYPTION_KEY", ("core",),
           "Fernet key(s) sealing original transcript text for compliance (TRANSCRIPT_SEAL_ORIGINALS=true)",
           "put the new key first (`new,old`), run the re-encryption, then drop the old key",
           min_length=44, kind="fernet", optional=True, required_when="TRANSCRIPT_SEAL_ORIGINALS"),
)
BY_NAME: dict[str, Secret] = {s.name: s for s in SECRETS}
SERVICE_NAMES = {"core": "the core", "actions": "the action server", "rasa": "Rasa", "worker": "the saga workers",
                 "sandbox": "the provider sandbox"}  # for messages


def _on(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "t", "yes", "y", "on"}  # pydantic's true values


def current_environment(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    value = environ.get("ENVIRONMENT", DEVELOPMENT)
    if value not in ENVIRONMENTS:  # exact, like the core's pydantic Literal: "Production" and "" are refused
        raise SecretsError(f"ENVIRONMENT must be {DEVELOPMENT!r} or {PRODUCTION!r}, "
                           f"not {environ.get('ENVIRONMENT')!r}")
    return value


def is_production(environ: Mapping[str, str] | None = None) -> bool:
    return current_environment(environ) == PRODUCTION


def secrets_file(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(FILE_ENV_VAR) or DEFAULT_SECRETS_FILE)


def names_for(*services: str) -> list[str]:
    """The secrets the given services read (all of them when none is given), in SECRETS order.

    A service that no secret lists among its readers reads none (a sandbox, say): the answer is empty.
    """
    return [s.name for s in SECRETS if not services or set(s.readers) & set(services)]


def generate(name: str) -> str:
    """A fresh random value in the right format for this secret."""
    if BY_NAME[name].kind == "fernet":
        return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")  # what Fernet.generate_key() does
    return secrets.token_urlsafe(32)


# --- the development file ---------------------------------------------------------------------------

def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def render(values: Mapping[str, str]) -> str:
    lines = ["# Development secrets, generated once at random (scripts/environment.py). Never used when",
             "# ENVIRONMENT=production. Delete this file to draw new ones (then restart everything).",
             *(f"{name}={value}" for name, value in values.items())]
    return "\n".join(lines) + "\n"


def read_file(path: Path) -> dict[str, str]:
    try:
        return parse(path.read_text())
    except FileNotFoundError:
        return {}


def _write_temporary(directory: Path, values: Mapping[str, str]) -> Path:
    fd, name = tempfile.mkstemp(prefix=".secrets-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, render(values).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Path(name)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl  # Unix only, like the rest of the tooling; imported here so the module imports anywhere

    fd = os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_file(path: Path | None = None) -> dict[str, str]:
    """The development secrets, creating the file (or adding secrets it lacks) with random values first."""
    path = secrets_file() if path is None else Path(path)
    values = read_file(path)
    if values and all(s.name in values for s in SECRETS):
        _tighten(path)
        return values
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = _write_temporary(path.parent, {s.name: generate(s.name) for s in SECRETS})
        try:
            os.link(temporary, path)  # atomic, and fails when another process created the file first
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: the same, under the lock
            with _locked(path):
                if not path.exists():
                    os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        values = read_file(path)
    if not all(s.name in values for s in SECRETS):  # a secret added to SECRETS since the file was made
        with _locked(path):
            values = read_file(path)
            missing = {s.name: generate(s.name) for s in SECRETS if s.name not in values}
            if missing:
                temporary = _write_temporary(path.parent, {**values, **missing})
                os.replace(temporary, path)
                values = read_file(path)
    _tighten(path)
    return values


def _tighten(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


# --- resolving and checking ---------------------------------------------------------------------------

def resolve(names: Iterable[str], environ: Mapping[str, str] | None = None,
            path: Path | None = None) -> dict[str, str]:
    """The value of each secret: the environment's, else (development only) var/secrets.env's.

    A secret that is not set at all in production is left out of the answer.
    """
    environ = os.environ if environ is None else environ
    names = list(names)
    for name in names:
        if name not in BY_NAME:
            raise KeyError(f"{name} is not listed in scripts/environment.py SECRETS")
    found = {name: environ[name] for name in names if environ.get(name)}
    if len(found) < len(names) and not is_production(environ):
        from_file = ensure_file(secrets_file(environ) if path is None else path)
        found.update({name: from_file[name] for name in names if name not in found and name in from_file})
    return {name: found[name] for name in names if name in found}


def value(name: str, environ: Mapping[str, str] | None = None, who: str = "this process") -> str:
    """One secret's value (environment, else the development file); SecretsError when it has none."""
    found = resolve([name], environ)
    if name not in found:
        raise SecretsError(explain([f"{name} is not set"], [name], who=who))
    return found[name]


def _is_fernet_key_list(raw: str) -> bool:
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    try:
        return bool(keys) and all(len(base64.urlsafe_b64decode(k.encode("ascii"))) == 32 for k in keys)
    except (binascii.Error, ValueError, UnicodeError):
        return False


def development_value_reason(raw: str) -> str | None:
    """Why a value is public or a placeholder (never repeating it), or None."""
    lowered = raw.strip().lower()
    if lowered.startswith(DEVELOPMENT_PREFIX):
        return f'a development value (starts with "{DEVELOPMENT_PREFIX}")'
    if lowered == DEMO_PASSWORD:
        return "the demo logins' public password"
    for placeholder in PLACEHOLDERS:
        if placeholder in lowered:
            return f'a placeholder (contains "{placeholder}")'
    if len(set(raw)) < MIN_DISTINCT_CHARACTERS:
        return f"not random (fewer than {MIN_DISTINCT_CHARACTERS} distinct characters)"
    return None


def problems(values: Mapping[str, str | None], *, production: bool,
             required: Iterable[str] = ()) -> list[str]:
    """What is wrong with each secret, one line each, never showing a value.

    Every environment: a value that is set must be long enough and in its format. Production also refuses
    missing secrets (all but the optional ones, unless listed in `required`) and development values.
    """
    required = set(required)
    found: list[str] = []
    for name, raw in values.items():
        secret = BY_NAME[name]
        if not raw:
            if production and (not secret.optional or name in required):
                why = f" (needed because {secret.required_when} is on)" if secret.optional else ""
                found.append(f"{name} is not set{why}")
            continue
        if secret.kind == "fernet":
            if not _is_fernet_key_list(raw):
                found.append(f"{name} is not a comma-separated list of Fernet keys "
                             "(url-safe base64 of 32 random bytes each)")
                continue
        elif len(raw) < secret.min_length:
            found.append(f"{name} is too short ({len(raw)} characters; at least {secret.min_length})")
            continue
        if production:
            reason = development_value_reason(raw)
            if reason:
                found.append(f"{name} is {reason}")
    return found


def explain(found: list[str], names: Iterable[str], who: str, environment: str = PRODUCTION) -> str:
    names = [n for n in dict.fromkeys(names) if any(line.startswith(n + " ") for line in found)]
    commands = sorted({BY_NAME[n].generate_command for n in names})
    lines = [f"ENVIRONMENT={environment}: {who} refuses to start; these secrets are not usable:",
             *(f"  - {line}" for line in found),
             "Generate a value with:  python -m scripts.environment generate NAME",
             *(f"  or:  {command}" for command in commands),
             f"and set it in the environment of every service that reads it (see {DOCS})."]
    return "\n".join(lines)


def require(names: Iterable[str], *, who: str, required: Iterable[str] = (),
            environ: Mapping[str, str] | None = None, path: Path | None = None) -> dict[str, str]:
    """The secrets' values, or SecretsError naming every unusable one (production: also missing or dev values)."""
    environ = os.environ if environ is None else environ
    names = list(names)
    environment = current_environment(environ)
    values = resolve(names, environ, path)
    required = {*required, *(s.name for s in SECRETS if s.required_when and _on(environ.get(s.required_when)))}
    found = problems({n: values.get(n) for n in names}, production=environment == PRODUCTION, required=required)
    if found:
        raise SecretsError(explain(found, names, who, environment))
    return values


def export(values: Mapping[str, str], environ: dict[str, str] | None = None) -> None:
    """Put values into the environment where it has none (the environment keeps winning)."""
    environ = os.environ if environ is None else environ  # type: ignore[assignment]
    for name, raw in values.items():
        if not environ.get(name):
            environ[name] = raw


# --- command line -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every secret, who reads it, its minimum length")
    check = sub.add_parser("check", help="exit 1 naming each unusable secret of these services")
    check.add_argument("services", nargs="*", help="core, actions, rasa (default: all)")
    gen = sub.add_parser("generate", help="print a fresh random value for NAME")
    gen.add_argument("name", choices=sorted(BY_NAME))
    sub.add_parser("init", help="development: create the secrets file if missing; prints its path")
    args = parser.parse_args(argv)
    unknown = set(getattr(args, "services", None) or ()) - {r for s in SECRETS for r in s.readers}
    if unknown:
        parser.error(f"no secrets are listed for {', '.join(sorted(unknown))} (services: {', '.join(SERVICE_NAMES)})")
    try:
        if args.command == "list":
            for s in SECRETS:
                size = "Fernet key(s)" if s.kind == "fernet" else f"{s.min_length}+ characters"
                print(f"{s.name:26} {','.join(s.readers):13} {size:15} {'optional ' if s.optional else ''}"
                      f"{s.purpose}")
        elif args.command == "check":
            environment = current_environment()
            who = " and ".join(SERVICE_NAMES.get(s, s) for s in args.services) or "the platform"
            require(names_for(*args.services), who=who)
            print(f"ENVIRONMENT={environment}: secrets usable for {' '.join(args.services) or 'every service'}")
        elif args.command == "generate":
            print(generate(args.name))
        elif args.command == "init":
            if is_production():
                sys.exit("ENVIRONMENT=production: no secrets file is used; set the secrets in the environment")
            ensure_file()
            print(secrets_file())
    except (SecretsError, ValueError) as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
