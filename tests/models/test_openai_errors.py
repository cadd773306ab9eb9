"""The openai backend's answers to broken servers: a tiny real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from simulator.models import load_model
from simulator.models.base import GenerationRequest, ModelError
from simulator.models.openai import OpenAIModel

REQUEST = GenerationRequest(
    messages=({"role": "user", "content": "Hello"},), n=3, seed=7, prefill="Honestly"
)
ANSWERS: dict[str, tuple[int, str]] = {}
SEEN: list[dict[str, object]] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SEEN.append({"body": body, "auth": self.headers.get("Authorization")})
        status, text = ANSWERS[self.path.split("/")[1]]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def model(url: str, case: str, status: int, text: str) -> OpenAIModel:
    ANSWERS[case] = (status, text)
    SEEN.clear()
    return OpenAIModel("m", base_url=f"{url}/{case}", api_key="sk-test", retries=1, timeout=5)


def completion(*texts: str) -> str:
    return json.dumps({"choices": [{"message": {"content": t}} for t in texts]})


def test_n_in_one_request_with_prefill_as_an_instruction(url: str) -> None:
    backend = model(url, "ok", 200, completion("Honestly, a.", "Honestly, b.", "Honestly, c."))
    assert backend.generate(REQUEST) == ["Honestly, a.", "Honestly, b.", "Honestly, c."]
    assert backend.supports_n is True and len(SEEN) == 1
    body = SEEN[0]["body"]
    assert isinstance(body, dict)
    assert body["n"] == 3 and body["seed"] == 7 and body["stop"] == ["\n"]
    assert body["messages"][-1]["content"].endswith('Start your reply with the words "Honestly".')
    assert SEEN[0]["auth"] == "Bearer sk-test"


def test_servers_without_n_are_asked_one_by_one(url: str) -> None:
    backend = model(url, "single", 200, completion("One."))
    assert backend.generate(REQUEST) == ["One.", "One.", "One."]
    assert backend.supports_n is False
    seeds = [s["body"]["seed"] for s in SEEN]  # type: ignore[index]
    assert seeds == [7, 8, 9]
    SEEN.clear()
    backend.generate(REQUEST)
    assert len(SEEN) == 3 and all("n" not in s["body"] for s in SEEN)  # type: ignore[operator]


def test_continue_mode_sends_the_started_reply_and_returns_it_whole(url: str) -> None:
    backend = model(url, "cont", 200, completion(", it's the meds."))
    backend.prefill_mode = "continue"
    backend.supports_n = False
    assert backend.generate(REQUEST)[0] == "Honestly, it's the meds."
    body = SEEN[0]["body"]
    assert isinstance(body, dict)
    assert body["messages"][-1] == {"role": "assistant", "content": "Honestly"}
    assert body["continue_final_message"] is True


@pytest.mark.parametrize(
    ("case", "status", "text", "message"),
    [
        ("garbage", 200, "<html>hello</html>", "not JSON"),
        ("nochoices", 200, '{"object": "list"}', "without choices"),
        ("notext", 200, '{"choices": [{"text": 3}]}', "without message text"),
        ("key", 401, '{"error": "bad key"}', "RAPPORT_OPENAI_API_KEY"),
        ("missing", 404, '{"error": "no such model"}', "model name"),
        ("busy", 503, "overloaded", "HTTP 503"),
    ],
)
def test_broken_answers_raise_a_clear_model_error(
    url: str, case: str, status: int, text: str, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        model(url, case, status, text).generate(REQUEST)


def test_registry_reads_the_server_from_the_environment(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_OPENAI_BASE_URL", f"{url}/ok/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    built = load_model("openai:some-model")
    assert isinstance(built, OpenAIModel)
    assert built.base_url == f"{url}/ok" and built.name == f"openai:some-model@{url}/ok"
    assert load_model("openai:some-model") is built
    monkeypatch.setenv("RAPPORT_OPENAI_BASE_URL", f"{url}/single")
    assert load_model("openai:some-model") is not built


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(ModelError, match=r"Unknown model backend 'ollama'.*openai:<model>"):
        load_model("ollama:llama3")
