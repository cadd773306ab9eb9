"""The openai backend against a real OpenAI-compatible server on loopback.

The server is llama-cpp-python's (``pip install 'llama-cpp-python[server]'``) serving the
embedded GGUF: a short session is played through it, then the server is stopped and the next
turn must fail with a clear ModelError while the finished turns stay.
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from simulator.content.schema import Rubric, Scenario
from simulator.conversation.session import Session
from simulator.models import load_model
from simulator.models.base import GenerationRequest, ModelError
from simulator.models.embedded import find_embedded_gguf
from simulator.models.openai import OpenAIModel
from tests.fakes import DictatedScorer

pytestmark = pytest.mark.slow  # every test here loads a real model


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    gguf = find_embedded_gguf()
    assert gguf is not None, "the embedded model is installed by setup.sh"
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, (
            "llama_cpp.server exited: pip install 'llama-cpp-python[server]'"
        )
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "llama_cpp.server did not start within 120 s"
        time.sleep(0.5)
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_session_through_the_server_then_a_clear_error_when_it_stops(
    server: tuple[subprocess.Popen[bytes], str],
    workload: Scenario,
    rubric: Rubric,
    dictated: DictatedScorer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    process, url = server
    monkeypatch.setenv("RAPPORT_OPENAI_BASE_URL", url)
    monkeypatch.delenv("RAPPORT_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_model("openai:smollm2")
    assert isinstance(model, OpenAIModel) and model.base_url == url
    model.retries = 0

    candidates = model.generate(
        GenerationRequest(
            messages=({"role": "user", "content": "Say hello to a colleague."},),
            n=3,
            max_new_tokens=16,
            seed=1,
        )
    )
    # llama.cpp's server answers one choice per request; the backend tops up one by one.
    assert len(candidates) == 3 and all(isinstance(c, str) for c in candidates)
    assert model.supports_n is False
    assert all("\n" not in c for c in candidates)

    streamed = list(
        model.stream(
            GenerationRequest(
                messages=({"role": "user", "content": "Count to five."},), max_new_tokens=12
            )
        )
    )
    assert streamed and all(b.startswith(a) for a, b in itertools.pairwise(streamed))

    session = Session(workload, rubric, dictated, model, seed=1)
    first = session.respond("How are things on the ward today?")
    second = session.respond("That sounds like a lot. What has been hardest?")
    assert first.persona and second.persona
    assert {first.source, second.source} <= {"model", "fallback"}

    process.kill()
    process.wait()
    with pytest.raises(ModelError, match=r"Could not get a reply from the persona model server"):
        session.respond("What would help most right now?")
    assert [t.index for t in session.turns] == [0, 1]
    with pytest.raises(ModelError, match="Cannot reach"):
        list(model.stream(GenerationRequest(messages=({"role": "user", "content": "Hi"},))))
