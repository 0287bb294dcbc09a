"""`python -m openscout` runs the command line."""

from openscout.cli import main

raise SystemExit(main())
