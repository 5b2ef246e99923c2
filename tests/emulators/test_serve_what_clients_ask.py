"""Issue 10, "serve what clients ask for": model endpoints over raw HTTP, `serve(provider)`
serving only that provider, the base URL guide, early client disconnects, `serve()`'s exit
checks and `EmulatedRequest.params` versus `.body`."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import httpx
import pytest

from myna import init_chat_model
from myna.cli import main
from myna.emulators import (
    EmulatorApp,
    RequestParams,
    client_guide,
    emulate,
    protocols_for_provider,
    serve,
)
from myna.exceptions import (
    NotFoundError,
    UnmatchedRequestError,
    UnusedRepliesError,
    UserError,
)
from myna.fakes import tool_call
from myna.tools import tool

AUTH = {"authorization": "Bearer k"}
CHAT = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture(scope="module")
def client() -> Any:
    with httpx.Client(timeout=10) as c:
        yield c


# -- model endpoints over raw HTTP ---------------------------------------------------------------


def test_ollama_show_answers_litellms_request_with_context_length_and_tools(client):
    # litellm posts {"name": ...} (the older field) and reads model_info's *context_length
    # and "tools" in the template; newer clients post {"model": ...} and read capabilities
    with serve("ollama", ["unused"], assert_all_replies_used=False) as server:
        shown = client.post(server.base_url + "/api/show", json={"name": "llama3.2"}).json()
        tags = client.get(server.base_url + "/api/tags").json()
        empty = client.post(server.base_url + "/api/show", json={})
    context = [v for k, v in shown["model_info"].items() if k.endswith("context_length")]
    assert context == [131072]
    assert "tools" in shown["template"].lower() and "tools" in shown["capabilities"]
    assert shown["details"]["format"] == "gguf"
    assert tags == {"models": []}  # no names known yet: the script and requests named none
    assert (empty.status_code, empty.json()) == (400, {"error": "model is required"})
    assert server.app.engine.remaining == 1  # no reply used


def test_models_listed_are_the_scripts_and_the_requests(client):
    with serve("openai", ["a", "b"]) as server:
        client.post(server.base_url + "/v1/chat/completions", json=CHAT, headers=AUTH)
        body = {**CHAT, "model": "gpt-4.1"}
        client.post(server.base_url + "/v1/chat/completions", json=body, headers=AUTH)
        listed = client.get(server.base_url + "/v1/models", headers=AUTH).json()
        anyone = client.get(server.base_url + "/v1/models/o3", headers=AUTH).json()
    assert [m["id"] for m in listed["data"]] == ["gpt-4.1-mini", "gpt-4.1"]
    assert listed["object"] == "list"
    assert anyone["id"] == "o3"  # without models=, any model is described


def test_models_given_are_strict_and_other_names_are_the_apis_404(client):
    with serve("openai", [], models=["gpt-4.1-mini"]) as server:
        known = client.get(server.base_url + "/v1/models/gpt-4.1-mini", headers=AUTH)
        unknown = client.get(server.base_url + "/v1/models/gpt-9", headers=AUTH)
    assert known.status_code == 200
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"


def test_model_endpoints_want_a_key_like_the_api(client):
    with serve("anthropic", []) as server:
        refused = client.get(server.base_url + "/v1/models")
        allowed = client.get(server.base_url + "/v1/models", headers={"x-api-key": "k"})
    assert refused.status_code == 401
    assert allowed.status_code == 200 and allowed.json()["has_more"] is False


def test_one_server_for_every_provider_tells_anthropic_and_openai_apart(client):
    with serve(script=[], models=["m"]) as server:
        as_openai = client.get(server.base_url + "/v1/models", headers=AUTH).json()
        as_anthropic = client.get(
            server.base_url + "/v1/models",
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        ).json()
        gemini = client.get(server.base_url + "/v1beta/models/m?key=k").json()
    assert as_openai["data"][0]["object"] == "model"
    assert as_anthropic["data"][0]["type"] == "model"
    assert gemini["name"] == "models/m"
    assert [r.protocol for r in server.model_requests] == [
        "openai-chat",
        "anthropic-messages",
        "gemini",
    ]


def test_in_process_model_endpoints_use_no_reply():
    with emulate("openai", ["Hello."]) as server:
        listed = httpx.get("https://api.openai.com/v1/models", headers=AUTH)
        model = init_chat_model("openai:gpt-4.1-mini", api_key="k")
        assert model.invoke("Hi").text == "Hello."
    assert listed.status_code == 200
    assert len(server.requests) == 1 and len(server.model_requests) == 1


# -- serve(provider) serves that provider only ---------------------------------------------------


def test_serve_anthropic_refuses_openai_paths_in_anthropics_format(client):
    with serve("anthropic", []) as server:
        response = client.post(
            server.base_url + "/v1/chat/completions", json=CHAT, headers={"x-api-key": "k"}
        )
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    message = body["error"]["message"]
    assert "POST /v1/chat/completions is not served here" in message
    assert "emulates anthropic" in message and "myna serve openai" in message
    assert len(server.requests) == 1 and server.requests[0].status == 404


def test_a_myna_client_sees_the_404_as_not_found():
    with serve("anthropic", []) as server:
        model = init_chat_model(
            "openai:gpt-4.1-mini", base_url=server.base_url + "/v1", api_key="k", max_retries=0
        )
        with pytest.raises(NotFoundError, match="emulates anthropic"):
            model.invoke("Hi")


def test_serve_ollama_also_serves_its_openai_compatible_api(client):
    with serve("ollama", ["native", "compatible"]) as server:
        native = client.post(
            server.base_url + "/api/chat", json={**CHAT, "model": "llama3.2", "stream": False}
        )
        compatible = client.post(server.base_url + "/v1/chat/completions", json=CHAT, headers=AUTH)
        gemini = client.post(server.base_url + "/v1beta/models/g:generateContent?key=k", json={})
    assert native.json()["message"]["content"] == "native"
    assert compatible.json()["choices"][0]["message"]["content"] == "compatible"
    assert gemini.status_code == 404 and "myna serve google_genai" in gemini.json()["error"]


def test_serve_refuses_an_unknown_provider():
    with pytest.raises(ValueError, match="Did you mean 'anthropic'"):
        serve("antropic", [])


# -- what myna serve prints ----------------------------------------------------------------------


def test_the_guide_gives_each_client_family_its_base_url():
    url = "http://127.0.0.1:8765"
    openai_only = client_guide("openai", url)
    assert f'openai.OpenAI(base_url="{url}/v1"' in openai_only
    assert "anthropic" not in openai_only
    anthropic_only = client_guide("anthropic", url)
    assert f'anthropic.Anthropic(base_url="{url}"' in anthropic_only
    assert f'base_url="{url}/v1"' in anthropic_only  # myna's provider takes /v1
    everything = client_guide(None, url)
    for example in ("openai.OpenAI(", "anthropic.Anthropic(", "genai.Client(", "ollama.Client("):
        assert example in everything
    assert f'ollama.Client(host="{url}")' in client_guide("ollama", url)


def test_myna_serve_prints_the_url_then_the_guide_and_passes_models(monkeypatch, capsys):
    seen: dict[str, Any] = {}

    def fake_serve(provider: Any, script: Any, **options: Any) -> Any:
        seen.update(provider=provider, options=options)
        server = serve(provider, script, **options)
        monkeypatch.setattr(server, "serve_forever", lambda: None)
        return server

    monkeypatch.setattr("myna.emulators.serve", fake_serve)
    assert main(["serve", "ollama", "--model", "llama3.2", "--model", "qwen3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("http://127.0.0.1:")
    assert any(f'ollama.Client(host="{lines[0]}")' in line for line in lines)
    assert seen["options"]["models"] == ["llama3.2", "qwen3"]

    assert main(["serve"]) == 0  # no provider: every protocol
    assert seen["provider"] is None
    assert "anthropic.Anthropic(" in capsys.readouterr().out


# -- a client that goes away early ---------------------------------------------------------------


class _Signal(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event.set()


def test_a_client_closing_mid_stream_is_logged_at_debug_not_a_traceback(capfd):
    signal = _Signal()
    log = logging.getLogger("myna.emulators._loopback")
    log.addHandler(signal)
    old_level = log.level
    log.setLevel(logging.DEBUG)
    words = " ".join(f"w{i}" for i in range(400))
    try:
        with serve("openai", [words], event_delay=0.002) as server:
            body = b'{"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}]}'
            request = (
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body)
            )
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(request)
                assert sock.recv(256).startswith(b"HTTP/1.1 200")  # the stream has begun
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            assert signal.event.wait(10), "the server never noticed the closed connection"
    finally:
        log.removeHandler(signal)
        log.setLevel(old_level)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err
    assert signal.records[0].levelno == logging.DEBUG
    assert "closed the connection" in signal.records[0].getMessage()


# -- serve() checks on exit like emulate() -------------------------------------------------------


def test_serve_fails_on_exit_for_unused_replies_and_script_errors(client):
    with pytest.raises(UnusedRepliesError, match="1 scripted reply was never requested"):
        with serve("openai", ["used", "unused"]) as server:
            client.post(server.base_url + "/v1/chat/completions", json=CHAT, headers=AUTH)

    with pytest.raises(UnmatchedRequestError, match="calls tool 'lookup'"):
        with serve("openai", [tool_call("lookup", q="x")], print_script_errors=False) as server:
            client.post(server.base_url + "/v1/chat/completions", json=CHAT, headers=AUTH)


def test_serve_exit_checks_have_emulates_opt_outs(client):
    relaxed = {"assert_all_replies_used": False, "assert_all_requests_matched": False}
    with serve(
        "openai", [tool_call("lookup", q="x"), "unused"], print_script_errors=False, **relaxed
    ) as server:
        client.post(server.base_url + "/v1/chat/completions", json=CHAT, headers=AUTH)
    assert len(server.app.errors) == 1  # kept, not raised

    with pytest.raises(KeyError):  # the block's own error wins; no check on top of it
        with serve("openai", ["unused"]):
            raise KeyError("the test's own failure")

    server = serve("openai", ["unused"]).start()
    server.stop()  # stop() alone does not check (a fixture's teardown in a thread)
    with pytest.raises(UnusedRepliesError):
        server.verify()


# -- params (normalised) and body (wire) ---------------------------------------------------------


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return "sunny"


@pytest.mark.parametrize("kind", ["emulate", "serve"])
def test_params_are_normalised_body_is_the_wire_and_a_wire_key_teaches(kind):
    script = ["It is sunny."]
    with emulate("openai", script) if kind == "emulate" else serve("openai", script) as server:
        extra = {"base_url": server.base_url + "/v1"} if kind == "serve" else {}
        model = init_chat_model("openai:gpt-4.1-mini", api_key="k", **extra)
        model.bind_tools([get_weather]).invoke("Weather in Oslo?")
    request = server.requests[0]
    assert isinstance(request.params, RequestParams)
    assert request.params["tools"][0]["name"] == "get_weather"  # neutral
    assert request.body["tools"][0]["function"]["name"] == "get_weather"  # wire
    with pytest.raises(KeyError, match=r"request\.body"):
        request.params["tools"][0]["function"]
    with pytest.raises(KeyError, match=r"normalised view.*request\.body"):
        request.params["messages"]
    assert request.params.get("messages") is None  # .get stays quiet


def test_protocols_for_each_provider_and_unknown_protocols_refused():
    assert protocols_for_provider("openai") == ("openai-chat", "openai-responses")
    assert protocols_for_provider("anthropic") == ("anthropic-messages",)
    assert protocols_for_provider("gemini") == protocols_for_provider("google_genai") == ("gemini",)
    assert protocols_for_provider("ollama")[0] == "ollama"
    assert "openai-chat" in protocols_for_provider("ollama")  # its OpenAI-compatible /v1
    assert protocols_for_provider("groq") == ("openai-chat", "openai-responses")
    assert len(protocols_for_provider(None)) == 6
    with pytest.raises(UserError, match="Unknown protocols"):
        EmulatorApp(protocols=["grpc"])
