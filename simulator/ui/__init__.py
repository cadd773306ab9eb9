"""The Gradio web app: practice, history, scenario authoring and batch evaluation tabs.

Importing this package switches off Gradio's analytics and the Hugging Face hub before Gradio
is imported anywhere, so the app never reaches the network at run time.

Tabs are thin callers of the library: nothing here computes a score.
"""

from __future__ import annotations

import os

# Must be set before gradio is imported: it reads the variable at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
