"""Ollama's native chat API (NDJSON streams)."""

from __future__ import annotations

from typing import Any, ClassVar

from ._http import HTTPChatModel

__all__ = ["OllamaChatModel"]


class OllamaChatModel(HTTPChatModel):
    """A local or cloud Ollama server through ``/api/chat``.

    ```python
    model = OllamaChatModel(model="llama3.1:8b")      # http://localhost:11434 or OLLAMA_HOST
    ```
    No key is needed locally; Ollama Cloud reads OLLAMA_API_KEY.
    """

    provider: ClassVar[str] = "ollama"
    protocol: ClassVar[str] = "ollama"
    default_base_url: ClassVar[str | None] = "http://localhost:11434"
    api_key_env: ClassVar[str | None] = "OLLAMA_API_KEY"
    base_url_env: ClassVar[str | None] = "OLLAMA_HOST"
    api_key_required: ClassVar[bool] = False
    path: ClassVar[str] = "/api/chat"
    default_profile: ClassVar[dict[str, Any]] = {
        "tool_calling": True,
        "tool_choice": False,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": True,
        "image_url_inputs": False,
        "reasoning_output": True,
    }

    @classmethod
    def _example_model(cls) -> str:
        return "llama3.1:8b"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            self.base_url = f"http://{self.base_url}"
