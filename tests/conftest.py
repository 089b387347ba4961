"""Suite-wide: the dashboard's per-session store goes to a temporary directory, never the user's cache."""
from __future__ import annotations

import os
import tempfile

# Set before any test (and any server a test starts) reads it; inherited by subprocesses.
os.environ.setdefault("RECSYS_SESSION_DIR", tempfile.mkdtemp(prefix="recsys-sessions-"))
