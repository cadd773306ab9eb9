"""OpenAI-compatible chat-completions backend: vLLM, Ollama, llama.cpp's server, TGI, OpenAI.

Any server that speaks ``POST {base_url}/chat/completions`` works. The persona engine asks for
``n`` candidates: we ask for them in one request (``n``) and, when a server answers with fewer
choices (llama.cpp's and Ollama's servers ignore ``n``), we ask for the rest one at a time and
remember that the server does not batch, so later turns go straight to one request per
candidate.

Prefill: a chat server cannot reliably continue an assistant message it did not start, so by
default (``prefill="instruct"``) the words the reply should start with are added to the last
user message as an instruction, and replies come back as the server wrote them (nothing is
prepended: glueing words onto a reply that did not start with them makes nonsense). vLLM can
continue a started message (``continue_final_message``); ``prefill="continue"`` uses that and
returns prefill + continuation, exactly like the in-process backends. ``prefill="none"`` drops
the prefill.

Every failure (server down, timeout, wrong key or model name, an answer that is not a chat
completion) is raised as :class:`ModelError` with a message that says what to check; the session
keeps every finished turn because ``Session.respond`` raises before it changes anything.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any, Literal

from simulator.models.base import GenerationRequest, Message, ModelError

PrefillMode = Literal["instruct", "continue", "none"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def base_url_from_env() -> str:
    """``RAPPORT_OPENAI_BASE_URL``, else ``OPENAI_BASE_URL``, else OpenAI's own URL."""
    return (
        os.environ.get("RAPPORT_OPENAI_BASE_URL")
        or os.environ.get("OPENAI_BASE_URL")
        or DEFAULT_BASE_URL
    ).rstrip("/")


def api_key_from_env() -> str | None:
    """``RAPPORT_OPENAI_API_KEY``, else ``OPENAI_API_KEY``; local servers need none."""
    return os.environ.get("RAPPORT_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY") or None


class OpenAIModel:
    """A persona backend that calls an OpenAI-compatible chat-completions server.

    Args:
        model: the model name the server knows (``--served-model-name`` for vLLM, the tag for
            Ollama, any name for llama.cpp's server).
        base_url: the server's ``.../v1`` URL (default: from the environment, see
            :func:`base_url_from_env`).
        api_key: sent as a bearer token when given (default: from the environment).
        timeout: seconds to wait for a connection and between bytes of an answer.
        retries: extra attempts after a connection error, a timeout or a 429/5xx answer.
        prefill: how a request's ``prefill`` is handled (see the module docstring).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        prefill: PrefillMode = "instruct",
    ) -> None:
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - httpx comes with gradio
            raise ModelError(f"The openai backend needs httpx ({exc}): pip install httpx") from exc
        if not model:
            raise ModelError("Name the server's model: --model openai:<model name>.")
        self.model = model
        self.base_url = (base_url or base_url_from_env()).rstrip("/")
        key = api_key if api_key is not None else api_key_from_env()
        self.retries = max(0, retries)
        self.prefill_mode: PrefillMode = prefill
        self.supports_n: bool | None = None
        """None until the server has answered a request with ``n > 1``."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._httpx = httpx
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        )

    @property
    def name(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    # -- request building ---------------------------------------------------------------

    def _messages(self, request: GenerationRequest) -> list[Message]:
        messages: list[dict[str, Any]] = [dict(m) for m in request.messages]
        prefill = request.prefill.strip()
        if prefill and self.prefill_mode == "instruct" and messages[-1]["role"] == "user":
            messages[-1]["content"] += f' Start your reply with the words "{prefill}".'
        if prefill and self.prefill_mode == "continue":
            messages.append({"role": "assistant", "content": request.prefill})
        return messages  # type: ignore[return-value]

    def _body(self, request: GenerationRequest, n: int, seed: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self._messages(request),
            "max_tokens": request.max_new_tokens,
            "temperature": max(0.0, request.temperature),
            "top_p": request.top_p,
            # A persona line is one line, as with the in-process backends.
            "stop": ["\n"],
        }
        if n > 1:
            body["n"] = n
        if seed is not None:
            body["seed"] = seed
        if request.prefill and self.prefill_mode == "continue":
            body["continue_final_message"] = True
            body["add_generation_prompt"] = False
        return body

    def _reply(self, request: GenerationRequest, content: str) -> str:
        if request.prefill and self.prefill_mode == "continue":
            return request.prefill + content
        return content

    # -- transport ------------------------------------------------------------------------

    def _where(self) -> str:
        return f"the persona model server at {self.base_url} (model {self.model!r})"

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a chat completion with retries; the parsed JSON answer."""
        httpx = self._httpx
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(4.0, 0.5 * 2 ** (attempt - 1)))
            try:
                response = self._client.post("/chat/completions", json=body)
            except httpx.TimeoutException as exc:
                last = f"no answer in time ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last = f"cannot connect ({exc or type(exc).__name__})"
                continue
            if response.status_code in _RETRY_STATUS:
                last = f"HTTP {response.status_code}: {_snippet(response.text)}"
                continue
            self._raise_for_status(response)
            try:
                payload = response.json()
            except ValueError as exc:
                raise ModelError(
                    f"{self._where()} answered something that is not JSON "
                    f"({_snippet(response.text)!r}). Check that the base URL ends in /v1 and "
                    "points at an OpenAI-compatible server."
                ) from exc
            if not isinstance(payload, dict):
                raise ModelError(f"{self._where()} answered {_snippet(str(payload))!r}, not JSON.")
            return payload
        raise ModelError(
            f"Could not get a reply from {self._where()}: {last}. Check that the server is "
            "running and that RAPPORT_OPENAI_BASE_URL is right; your turns so far are kept."
        )

    def _raise_for_status(self, response: Any) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = _snippet(response.text)
        if status in (401, 403):
            hint = "Set RAPPORT_OPENAI_API_KEY (or OPENAI_API_KEY) to a key the server accepts."
        elif status == 404:
            hint = (
                "Check the model name and that the base URL ends in /v1 "
                "(e.g. http://localhost:8000/v1)."
            )
        else:
            hint = "Check the model name and the server's log."
        raise ModelError(f"{self._where()} refused the request (HTTP {status}: {detail}). {hint}")

    def _choices(self, payload: dict[str, Any]) -> list[str]:
        choices = payload.get("choices")
        if isinstance(payload.get("error"), dict | str):
            raise ModelError(f"{self._where()} answered with an error: {payload['error']}")
        if not isinstance(choices, list) or not choices:
            raise ModelError(
                f"{self._where()} answered without choices ({_snippet(json.dumps(payload))}); "
                "is it an OpenAI-compatible chat-completions server?"
            )
        texts: list[str] = []
        for choice in choices:
            message = choice.get("message") if isinstance(choice, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, str):
                raise ModelError(
                    f"{self._where()} answered a choice without message text "
                    f"({_snippet(json.dumps(choice))})."
                )
            texts.append(content)
        return texts

    # -- ChatModel ------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> list[str]:
        texts: list[str] = []
        if request.n > 1 and self.supports_n is not False:
            texts = self._choices(self._post(self._body(request, request.n, request.seed)))
            self.supports_n = len(texts) >= request.n
        while len(texts) < request.n:
            seed = None if request.seed is None else request.seed + len(texts)
            texts.extend(self._choices(self._post(self._body(request, 1, seed)))[:1])
        return [self._reply(request, t) for t in texts[: request.n]]

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        httpx = self._httpx
        body = {**self._body(request, 1, request.seed), "stream": True}
        text = request.prefill if self.prefill_mode == "continue" else ""
        try:
            with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                for line in response.iter_lines():
                    piece = self._sse_piece(line)
                    if piece is None:
                        break
                    if piece:
                        text += piece
                        yield text
        except httpx.TimeoutException as exc:
            raise ModelError(f"{self._where()} stopped answering ({type(exc).__name__}).") from exc
        except httpx.TransportError as exc:
            raise ModelError(
                f"Cannot reach {self._where()} ({exc}). Check that the server is running."
            ) from exc

    def _sse_piece(self, line: str) -> str | None:
        """The text in one server-sent-events line; None at the end of the stream."""
        line = line.strip()
        if not line.startswith("data:"):
            return ""  # comments, event names, keep-alives, blank separators
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return None
        try:
            chunk = json.loads(data)
            delta = chunk["choices"][0].get("delta") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            if isinstance(chunk_error := _maybe_error(data), str):
                raise ModelError(f"{self._where()} answered with an error: {chunk_error}") from exc
            raise ModelError(
                f"{self._where()} streamed something that is not a chat-completion chunk "
                f"({_snippet(data)!r})."
            ) from exc
        content = delta.get("content")
        return content if isinstance(content, str) else ""


def _maybe_error(data: str) -> str | None:
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    if isinstance(payload, dict) and "error" in payload:
        return str(payload["error"])
    return None


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
