"""`python -m sandbox --port 8100`: serve the sandbox on 127.0.0.1."""

from __future__ import annotations

import argparse

import uvicorn


def main() -> None:
    """Parse the port and run uvicorn (localhost only)."""
    parser = argparse.ArgumentParser(description="bankbot provider sandbox")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    uvicorn.run("sandbox.app:app", host="127.0.0.1", port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
