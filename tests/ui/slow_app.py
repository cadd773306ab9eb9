"""``app.py`` with the scripted persona model answering after a pause, for browser tests.

The browser tests need a reply that takes long enough to act while the colleague is
"thinking…" (type, click Send again, pick another situation), and fast, repeatable answers
otherwise. ``RAPPORT_TEST_REPLY_DELAY`` sets the pause in seconds (default 3).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from simulator.models.fake import ScriptedModel

DELAY = float(os.environ.get("RAPPORT_TEST_REPLY_DELAY", "3"))
_generate = ScriptedModel.generate


def _slow_generate(self: ScriptedModel, request: Any) -> list[str]:
    time.sleep(DELAY)
    return _generate(self, request)


ScriptedModel.generate = _slow_generate  # type: ignore[method-assign]

if __name__ == "__main__":
    from simulator.ui.app import main

    sys.exit(main())
