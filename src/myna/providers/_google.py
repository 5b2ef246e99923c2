"""Google Gemini through the Generative Language API."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from ..models import ChatRequest
from ._http import HTTPChatModel

__all__ = ["GoogleGenAIChatModel"]


class GoogleGenAIChatModel(HTTPChatModel):
    """Gemini via ``generateContent`` / ``streamGenerateContent?alt=sse``.

    ```python
    model = GoogleGenAIChatModel(model="gemini-2.5-flash")  # GOOGLE_API_KEY or GEMINI_API_KEY
    ```
    """

    provider: ClassVar[str] = "google_genai"
    protocol: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com"
    api_key_env: ClassVar[str | None] = "GOOGLE_API_KEY"
    default_profile: ClassVar[dict[str, Any]] = {
        "tool_calling": True,
        "tool_choice": True,
        "tool_call_streaming": False,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": True,
        "pdf_inputs": True,
        "audio_inputs": True,
        "video_inputs": True,
        "reasoning_output": True,
        "image_outputs": True,
        "max_input_tokens": 1_048_576,
        "max_output_tokens": 65_536,
    }

    @classmethod
    def _example_model(cls) -> str:
        return "gemini-2.5-flash"

    def _api_key(self) -> str | None:
        # like the official SDK: GOOGLE_API_KEY first, then GEMINI_API_KEY
        key = self.api_key or os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")
        if not key and self.base_url == self.default_base_url:
            raise self._missing_key("GOOGLE_API_KEY (or GEMINI_API_KEY)")
        return key or None

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        return {"x-goog-api-key": key} if key else {}

    def _url(self, request: ChatRequest, stream: bool) -> str:
        model = request.model or self.model
        return f"{self.base_url}{self.codec.request_path(model, stream=stream)}"
