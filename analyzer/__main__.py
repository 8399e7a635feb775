"""`python -m analyzer` is the `sip-analyzer` command."""

from .cli import main

raise SystemExit(main())
