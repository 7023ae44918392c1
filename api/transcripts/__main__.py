"""Retention and erasure of conversation data, both audited.

    python -m api.transcripts purge [--older-than-days N]   # default: TRANSCRIPT_RETENTION_DAYS
    python -m api.transcripts erase --username alice
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.models import User
from api.config import get_settings
from api.db import get_engine
from api.transcripts.service import erase_customer, purge_older_than


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    purge = sub.add_parser("purge")
    purge.add_argument("--older-than-days", type=int, default=settings.transcript_retention_days)
    erase = sub.add_parser("erase")
    erase.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    actor = f"operator:{getpass.getuser()}"
    with Session(get_engine()) as session:
        if args.command == "purge":
            count = purge_older_than(session, args.older_than_days, actor)
            print(f"purged {count} transcript messages older than {args.older_than_days} days")
        else:
            user = session.scalar(select(User).where(User.username == args.username))
            if user is None:
                print(f"no such user: {args.username}", file=sys.stderr)
                return 1
            count = erase_customer(session, user.id, actor)
            print(f"erased {count} transcript messages of {args.username}")
        session.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
