"""Rapport's web app: ``python app.py`` starts it on http://127.0.0.1:7860 (offline).

Honours GRADIO_SERVER_NAME and GRADIO_SERVER_PORT; see simulator/ui/app.py for the other
settings (RAPPORT_CONCURRENCY, RAPPORT_MODEL, RAPPORT_HOME, the facilitator login).
"""

import os
import sys

# Before anything imports gradio or huggingface_hub: no analytics, no hub downloads.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # loading bars only clutter the log

from simulator.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
