"""``python -m scaling COMMAND [options]``: every command lives in :mod:`scaling.cli`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
