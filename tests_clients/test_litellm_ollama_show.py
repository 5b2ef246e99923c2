"""litellm's Ollama route against `serve("ollama")`: it asks ``POST /api/show`` before its
calls and reads the context length and tool support from it (issue 10).

litellm is not in the dev extra: it runs here, in the client environment that has it.
"""

from __future__ import annotations

import os

from myna.emulators import serve
from myna.fakes import tool_call

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list download

import litellm

HI = [{"role": "user", "content": "Hi"}]
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a word up.",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
        },
    },
}


def test_litellm_reads_context_length_and_tools_from_api_show(monkeypatch):
    with serve("ollama", [tool_call("lookup", q="myna")], models=["llama3.2"]) as server:
        monkeypatch.setenv("OLLAMA_API_BASE", server.base_url)
        info = litellm.get_model_info("ollama/llama3.2")
        reply = litellm.completion(
            model="ollama_chat/llama3.2", api_base=server.base_url, messages=HI, tools=[LOOKUP]
        )
    assert info["max_input_tokens"] == 131072
    assert info["supports_function_calling"] is True
    assert reply.choices[0].message.tool_calls[0].function.name == "lookup"
    assert len(server.requests) == 1  # the chat; every /api/show is a model request
    assert {(r.path, r.status) for r in server.model_requests} == {("/api/show", 200)}
