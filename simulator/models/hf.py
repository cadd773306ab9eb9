"""Transformers backend: any Hugging Face model id, local folder or GGUF file, on CPU by default.

This is the only module that imports transformers for generation. A GGUF file is de-quantised to
float32 by transformers (about 15-20 s for the 135M model); we save the result once as
safetensors under the cache folder so later starts load in well under a second.

Weights dtype: the embedded model runs in bfloat16 on a CPU with native bfloat16 instructions
(``avx512_bf16`` or ``amx_bf16``): about 1.5x faster per reply and half the memory of float32,
with replies as often in character (see ``bench/run.py`` and the persona check). Elsewhere it
stays float32, where bfloat16 is emulated and slower. ``RAPPORT_HF_DTYPE`` (``auto``,
``float32``, ``bfloat16``) overrides the choice for any transformers model; ``auto`` leaves
other models at transformers' default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.files.paths import cache_dir
from simulator.models.base import GenerationRequest, ModelError
from simulator.models.decoding import Job, PrefixCache, decode, decode_batch
from simulator.models.embedded import EMBEDDED_NAME, GGUF_FILE, find_embedded_gguf

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install the project with its set-up command (see README: `bash setup.sh`), "
    "or `pip install -e .` in a Python 3.11 environment."
)


def _import_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            f"The transformers backend needs torch and transformers ({exc}). {INSTALL_HINT}"
        ) from exc
    return torch, transformers


def _converted_dir(gguf: Path) -> Path:
    """Cache folder for a de-quantised GGUF, keyed by the file's content.

    Not by its path or modification time: every fresh set-up (a new virtual environment, a new
    clone) unpacks the same embedded GGUF anew, and a path key left one more 0.5-0.75 GB
    conversion behind each time. Hashing the 0.1 GB embedded file takes a fraction of a second.
    """
    with gguf.open("rb") as handle:
        key = hashlib.file_digest(handle, "sha256").hexdigest()
    return cache_dir() / "models" / f"{gguf.stem}-{key[:12]}"


SOURCE_FILE = "rapport-source.txt"
"""Written into each conversion: the GGUF path it was made from."""

STALE_AFTER_S = 3600
"""A conversion without a source file (made by a version that keyed them by path) is removed only
once it is this old: a process that was just given it may still be loading it."""


def _remove_older_conversions(target: Path, gguf: Path) -> None:
    """Once a conversion is saved, drop the ones it replaces (and their dtype copies): those made
    from the same path before the file changed, and old ones from earlier versions, which keyed
    them by path and left one behind per set-up. Another file of the same name elsewhere keeps
    its conversion."""
    stem = target.name[: -len("-") - 12]
    pattern = re.compile(re.escape(stem) + r"-[0-9a-f]{12}")
    source = str(gguf.resolve())
    now = time.time()
    for folder in target.parent.iterdir():
        found = pattern.match(folder.name)
        if found is None or folder.name.startswith(target.name) or folder.suffix == ".partial":
            continue
        base = folder.with_name(found.group(0))  # a dtype copy follows its base folder
        try:
            made_from = (base / SOURCE_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            made_from = None
        old = now - folder.stat().st_mtime > STALE_AFTER_S
        if made_from == source or (made_from is None and old):
            shutil.rmtree(folder, ignore_errors=True)


def _convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantise a GGUF once and save it as a plain transformers folder."""
    _, transformers = _import_transformers()
    log.info("converting %s to float32 once (about 20 s); later starts reuse %s", gguf.name, target)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The weights are already plain float32 tensors; the GGUF quantizer marker is what blocks
    # save_pretrained, so drop it before saving.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    model.save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    (partial / SOURCE_FILE).write_text(str(gguf.resolve()), encoding="utf-8")
    partial.replace(target)
    _remove_older_conversions(target, gguf)


def _dtype_copy(location: str, dtype: str) -> str:
    """A copy of a converted GGUF folder saved in ``dtype`` (made once), so loading it needs no
    float32 weights in memory: converting at load time briefly holds both (about 0.5 GB more
    at start for the 135M model)."""
    folder = Path(location)
    if dtype == "float32" or folder.parent != cache_dir() / "models":
        return location
    target = folder.with_name(f"{folder.name}-{dtype}")
    if not (target / "config.json").is_file():
        torch, transformers = _import_transformers()
        log.info("saving a %s copy of %s once", dtype, folder.name)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            location, dtype=getattr(torch, dtype)
        )
        tokenizer = transformers.AutoTokenizer.from_pretrained(location)
        partial = target.with_name(target.name + ".partial")
        model.save_pretrained(str(partial))
        tokenizer.save_pretrained(str(partial))
        partial.replace(target)
    return str(target)


def resolve_source(source: str | Path | None) -> tuple[str, str]:
    """Turn what the user asked for into (folder or model id to load, display name).

    Raises:
        ModelError: the embedded model is not installed, or a named file does not exist.
    """
    if source is None or str(source) in ("", "embedded"):
        gguf = find_embedded_gguf()
        if gguf is None:
            raise ModelError(
                f"The embedded persona model ({GGUF_FILE}) is not installed. Run "
                "`python -m simulator.models.embedded` (the README's set-up command does it)."
            )
        name = EMBEDDED_NAME
    else:
        path = Path(str(source)).expanduser()
        if str(source).endswith(".gguf"):
            if not path.is_file():
                raise ModelError(f"Model file not found: {path}. Give the path of a .gguf file.")
            gguf, name = path, path.name
        elif path.is_dir():
            return str(path), str(path)
        elif path.suffix or (os.sep in str(source) and not path.exists()):
            raise ModelError(
                f"Model not found: {source}. Give a local folder, a .gguf file or a "
                "Hugging Face model id that is already in the local cache."
            )
        else:
            return str(source), str(source)
    target = _converted_dir(gguf)
    if not (target / "config.json").is_file():
        _convert_gguf(gguf, target)
    return str(target), name


DTYPES = ("auto", "float32", "bfloat16")


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU has native bfloat16 instructions (AVX512-BF16 or AMX); Linux only."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def choose_dtype(requested: str | None, embedded: bool) -> str | None:
    """The weights dtype to load with (None: transformers' default for the model).

    Raises:
        ModelError: ``requested`` (or ``RAPPORT_HF_DTYPE``) is not one of :data:`DTYPES`.
    """
    chosen = (requested or os.environ.get("RAPPORT_HF_DTYPE") or "auto").strip().lower()
    if chosen not in DTYPES:
        raise ModelError(
            f"Unknown weights dtype {chosen!r} (RAPPORT_HF_DTYPE). Available: {', '.join(DTYPES)}."
        )
    if chosen != "auto":
        return chosen
    if embedded:
        return "bfloat16" if cpu_has_fast_bf16() else "float32"
    return None


def _plain_cache(transformers: Any, model: Any) -> bool:
    """Whether every layer of the model's KV cache is a plain growing one."""
    from transformers.cache_utils import DynamicCache, DynamicLayer

    try:
        cache = DynamicCache(config=model.config)
    except (ValueError, TypeError, AttributeError, KeyError):
        return False
    return bool(cache.layers) and all(type(layer) is DynamicLayer for layer in cache.layers)


MAX_BATCHED_REQUESTS = 4
"""Most requests decoded in one batch (each brings ``n`` candidate rows)."""


class HFModel:
    """A causal LM run in-process with transformers; thread-safe (one generation at a time).

    Args:
        source: a Hugging Face model id, a local folder, a ``.gguf`` file, or None for the
            embedded model.
        threads: torch CPU threads (default: torch's choice).
        dtype: ``"float32"``, ``"bfloat16"`` or ``"auto"`` (default, or ``RAPPORT_HF_DTYPE``):
            bfloat16 for the embedded model on a CPU with native bfloat16, float32 on others,
            and transformers' default for any other model.
        fast: use our own decoding loop (``simulator.models.decoding``: prompt run once for all
            candidates, prompt KV reused across turns, finished candidates leave the batch)
            instead of ``model.generate``; models whose KV cache is not a plain growing one
            always use ``generate``.
    """

    def __init__(
        self,
        source: str | Path | None = None,
        threads: int | None = None,
        *,
        fast: bool = True,
        dtype: str | None = None,
    ) -> None:
        torch, transformers = _import_transformers()
        location, self._name = resolve_source(source)
        chosen = choose_dtype(dtype, embedded=self._name == EMBEDDED_NAME)
        if threads:
            torch.set_num_threads(threads)
        try:
            if chosen:
                location = _dtype_copy(location, chosen)
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(location)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                location, **({"dtype": getattr(torch, chosen)} if chosen else {})
            )
        except OSError as exc:
            raise ModelError(
                f"Could not load the model {source!r}: {exc}. Nothing is downloaded at run time "
                "(HF_HUB_OFFLINE); give a local folder or .gguf file, or a model id already in "
                "the Hugging Face cache."
            ) from exc
        self.model.eval()
        if self.tokenizer.chat_template is None:
            raise ModelError(f"{self._name} has no chat template; choose an instruct/chat model.")
        self._torch = torch
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[Job] = []
        # A persona line is one line: stop at the first newline as well as at end of turn.
        newline_ids = {
            token_id
            for token, token_id in self.tokenizer.get_vocab().items()
            if token.replace("Ċ", "\n").endswith("\n") and token.strip("Ċ\n") in ("", ".", "!", "?")
        }
        eos = self.tokenizer.eos_token_id
        self._stop_ids = sorted(newline_ids | ({eos} if isinstance(eos, int) else set(eos or [])))
        # Our decoding loop (prefill once, prefix reuse) needs a plain growing KV cache; models
        # with sliding-window or recurrent layers use ``generate``.
        # RAPPORT_HF_FAST=0 goes back to plain ``generate`` (for comparisons; an escape hatch).
        fast = fast and os.environ.get("RAPPORT_HF_FAST", "1") != "0"
        self.fast = fast and _plain_cache(transformers, self.model)
        self.prefix_cache = PrefixCache()

    @property
    def name(self) -> str:
        return self._name

    def _prompt_ids(self, request: GenerationRequest) -> Any:
        prompt = self.tokenizer.apply_chat_template(
            list(request.messages), tokenize=False, add_generation_prompt=True
        )
        prompt += request.prefill
        return self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)

    def _generate_kwargs(self, request: GenerationRequest) -> dict[str, Any]:
        return {
            "max_new_tokens": request.max_new_tokens,
            "do_sample": request.temperature > 0,
            "temperature": request.temperature if request.temperature > 0 else None,
            "top_p": request.top_p if request.temperature > 0 else None,
            "top_k": None,
            "eos_token_id": self._stop_ids,
            "pad_token_id": self.tokenizer.pad_token_id or self._stop_ids[0],
        }

    def _batched_rows(self, request: GenerationRequest, ids: list[int]) -> list[list[int]]:
        """Rows for one request, decoded together with any requests queued at the same time.

        Sessions that ask while another is generating queue up; whoever gets the model next
        decodes every queued request in one batch (``decode_batch``), so four trainees at once
        cost far less than four replies in a row. A request that finds the queue empty is
        decoded alone, exactly as before (seeded replies repeat exactly).
        """
        job = self._job(request, ids)
        with self._queue_lock:
            self._queue.append(job)
        with self._lock, self._torch.inference_mode():
            while not job.done:
                with self._queue_lock:
                    batch = self._queue[:MAX_BATCHED_REQUESTS]
                    del self._queue[: len(batch)]
                try:
                    if len(batch) == 1:
                        *_, batch[0].rows = self._decode_alone(batch[0])
                        batch[0].done = True
                    else:
                        decode_batch(
                            self.model,
                            batch,
                            stop_ids=self._stop_ids,
                            prefix_cache=self.prefix_cache,
                        )
                except BaseException as exc:
                    # Every request of the batch gets the error: none may be left waiting.
                    for other in batch:
                        other.error, other.done = exc, True
        if job.error is not None:
            raise job.error
        return job.rows

    @staticmethod
    def _job(request: GenerationRequest, ids: list[int]) -> Job:
        return Job(
            ids,
            n=request.n,
            max_new_tokens=request.max_new_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            enough_finished=request.enough_finished,
        )

    def _decode_alone(self, job: Job) -> Iterator[list[list[int]]]:
        """Token rows of one request as they grow, from our own decoding loop."""
        return decode(
            self.model,
            job.ids,
            n=job.n,
            max_new_tokens=job.max_new_tokens,
            temperature=job.temperature,
            top_p=job.top_p,
            seed=job.seed,
            stop_ids=self._stop_ids,
            prefix_cache=self.prefix_cache,
            enough_finished=job.enough_finished,
        )

    def _fast_rows(self, request: GenerationRequest, ids: list[int]) -> Iterator[list[list[int]]]:
        """Token rows as they grow, for streaming one reply (see ``decoding.py``)."""
        with self._lock, self._torch.inference_mode():
            yield from self._decode_alone(self._job(request, ids))

    def generate(self, request: GenerationRequest) -> list[str]:
        inputs = self._prompt_ids(request)
        if self.fast:
            rows = self._batched_rows(request, inputs["input_ids"][0].tolist())
            return [
                request.prefill + self.tokenizer.decode(row, skip_special_tokens=True)
                for row in rows
            ]
        prompt_length = inputs["input_ids"].shape[1]
        with self._lock, self._torch.inference_mode():
            if request.seed is not None:
                self._torch.manual_seed(request.seed)
            output = self.model.generate(
                **inputs, num_return_sequences=request.n, **self._generate_kwargs(request)
            )
        return [
            request.prefill + self.tokenizer.decode(row[prompt_length:], skip_special_tokens=True)
            for row in output
        ]

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        inputs = self._prompt_ids(request)
        if self.fast:
            single = dataclasses.replace(request, n=1)
            shown = request.prefill
            for rows in self._fast_rows(single, inputs["input_ids"][0].tolist()):
                text = request.prefill + self.tokenizer.decode(rows[0], skip_special_tokens=True)
                # Hold back a partial multi-byte character until it is complete.
                if text != shown and not text.endswith("\ufffd"):
                    shown = text
                    yield text
            return
        yield from self._stream_generate(request, inputs)

    def _stream_generate(self, request: GenerationRequest, inputs: Any) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)

        def run() -> None:
            with self._lock, self._torch.inference_mode():
                if request.seed is not None:
                    self._torch.manual_seed(request.seed)
                self.model.generate(**inputs, streamer=streamer, **self._generate_kwargs(request))

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        text = request.prefill
        for piece in streamer:
            text += piece
            yield text
        worker.join()
