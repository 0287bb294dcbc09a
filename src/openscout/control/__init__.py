"""The control API under `/_openscout/`: what a test suite needs from a Help Scout stand-in
(docs/testing.md), kept apart from the API it steers. Served only with `--control-api`; without
it, nothing here is installed.

- `state`: what the control API keeps per account in this process (clocks, journal, faults,
  snapshots) and its bounds;
- `journal`: the middleware that records each request of an account and applies its faults;
- `routes`: the endpoints, each acting on the account of the caller's key.

The customers live in the database. Everything else lives in the memory of this process: it is
lost on restart and not shared between processes, which is why `openscout serve` refuses
`--control-api` with more than one worker.
"""

from openscout.control.journal import Journal
from openscout.control.routes import control_routes
from openscout.control.state import PREFIX, ControlState, is_control_path

__all__ = ["PREFIX", "ControlState", "Journal", "control_routes", "is_control_path"]
