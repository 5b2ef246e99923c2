"""Anthropic's Messages API."""

from __future__ import annotations

from typing import Any, ClassVar

from ._http import HTTPChatModel

__all__ = ["AnthropicChatModel"]


class AnthropicChatModel(HTTPChatModel):
    """Anthropic Claude through the Messages API (``x-api-key``, ``anthropic-version``).

    ```python
    model = AnthropicChatModel(model="claude-haiku-4-5", max_tokens=1024)  # ANTHROPIC_API_KEY
    ```
    """

    provider: ClassVar[str] = "anthropic"
    protocol: ClassVar[str] = "anthropic-messages"
    default_base_url: ClassVar[str | None] = "https://api.anthropic.com/v1"
    api_key_env: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    base_url_env: ClassVar[str | None] = "ANTHROPIC_BASE_URL"
    path: ClassVar[str] = "/messages"
    API_VERSION: ClassVar[str] = "2023-06-01"
    default_profile: ClassVar[dict[str, Any]] = {
        "tool_calling": True,
        "tool_choice": True,
        "tool_call_streaming": True,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": True,
        "image_url_inputs": True,
        "pdf_inputs": True,
        "audio_inputs": False,
        "video_inputs": False,
        "reasoning_output": True,
        "max_input_tokens": 200_000,
        "max_output_tokens": 64_000,
    }

    @classmethod
    def _example_model(cls) -> str:
        return "claude-haiku-4-5"

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": self.API_VERSION}
        if key:
            headers["x-api-key"] = key
        return headers
