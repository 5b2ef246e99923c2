"""OpenAI (Chat Completions or Responses), Azure OpenAI, and OpenAI-compatible servers."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from ..exceptions import UserError
from ..models import ChatRequest
from ._http import HTTPChatModel

__all__ = [
    "COMPATIBLE_PRESETS",
    "AzureOpenAIChatModel",
    "OpenAIChatModel",
    "OpenAICompatibleChatModel",
]

_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def openai_profile(model: str | None) -> dict[str, Any]:
    """Capabilities of OpenAI models, by name."""
    name = (model or "").lower()
    reasoning = name.startswith(_REASONING_PREFIXES)
    return {
        "tool_calling": True,
        "tool_choice": True,
        "tool_call_streaming": True,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": True,
        "image_url_inputs": True,
        "pdf_inputs": True,
        "audio_inputs": "audio" in name,
        "audio_outputs": "audio" in name,
        "video_inputs": False,
        "reasoning_output": reasoning,
        "max_input_tokens": 400_000 if name.startswith("gpt-5") else 128_000,
        "max_output_tokens": 128_000 if name.startswith("gpt-5") else 16_384,
    }


class OpenAIChatModel(HTTPChatModel):
    """OpenAI's API: Chat Completions by default, the Responses API with
    ``use_responses_api=True``.

    ```python
    model = OpenAIChatModel(model="gpt-4.1-mini")          # reads OPENAI_API_KEY
    local = OpenAIChatModel(model="qwen3", base_url="http://localhost:8000/v1")  # vLLM etc.
    ```

    A custom `base_url` needs no API key (local servers); the official endpoint does.
    """

    provider: ClassVar[str] = "openai"
    protocol: ClassVar[str] = "openai-chat"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    base_url_env: ClassVar[str | None] = "OPENAI_BASE_URL"
    extra_params = HTTPChatModel.extra_params | {"use_responses_api", "organization", "project"}

    def __init__(self, **kwargs: Any) -> None:
        self.use_responses_api: bool = bool(kwargs.pop("use_responses_api", False))
        self.organization: str | None = kwargs.pop("organization", None)
        self.project: str | None = kwargs.pop("project", None)
        super().__init__(**kwargs)
        if self.use_responses_api:
            self.protocol = "openai-responses"  # type: ignore[misc]
            self.path = "/responses"  # type: ignore[misc]

    @classmethod
    def _example_model(cls) -> str:
        return "gpt-4.1-mini"

    @property
    def profile(self) -> dict[str, Any]:
        return {**openai_profile(self.model), **self._profile_overrides}

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        return headers


class AzureOpenAIChatModel(OpenAIChatModel):
    """Azure OpenAI: an ``api-key`` header, a deployment in the path, an ``api-version``.

    ```python
    model = AzureOpenAIChatModel(model="gpt-4o", azure_endpoint="https://x.openai.azure.com",
                                 api_version="2024-10-21")   # reads AZURE_OPENAI_API_KEY
    ```
    `azure_deployment` defaults to `model`.
    """

    provider: ClassVar[str] = "azure_openai"
    default_base_url: ClassVar[str | None] = None
    api_key_env: ClassVar[str | None] = "AZURE_OPENAI_API_KEY"
    base_url_env: ClassVar[str | None] = "AZURE_OPENAI_ENDPOINT"
    extra_params = OpenAIChatModel.extra_params | {
        "azure_endpoint",
        "azure_deployment",
        "api_version",
    }
    DEFAULT_API_VERSION: ClassVar[str] = "2024-10-21"

    def __init__(self, **kwargs: Any) -> None:
        endpoint = kwargs.pop("azure_endpoint", None)
        if endpoint and not kwargs.get("base_url"):
            kwargs["base_url"] = endpoint
        self.azure_deployment: str | None = kwargs.pop("azure_deployment", None)
        self.api_version: str = (
            kwargs.pop("api_version", None)
            or os.environ.get("OPENAI_API_VERSION")
            or self.DEFAULT_API_VERSION
        )
        if not kwargs.get("base_url") and not os.environ.get("AZURE_OPENAI_ENDPOINT"):
            raise UserError(
                "AzureOpenAIChatModel needs the resource endpoint: pass azure_endpoint="
                "'https://<resource>.openai.azure.com' or set AZURE_OPENAI_ENDPOINT."
            )
        super().__init__(**kwargs)
        self.azure_deployment = self.azure_deployment or self.model

    def _api_key(self) -> str | None:
        # every Azure endpoint is the real service, so a key is always needed
        key = self.api_key or os.environ.get("AZURE_OPENAI_API_KEY")
        if not key:
            raise self._missing_key("AZURE_OPENAI_API_KEY")
        return key

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        return {"api-key": key} if key else {}

    def _url(self, request: ChatRequest, stream: bool) -> str:
        if self.use_responses_api:
            return f"{self.base_url}/openai/v1/responses?api-version={self.api_version}"
        return (
            f"{self.base_url}/openai/deployments/{self.azure_deployment}/chat/completions"
            f"?api-version={self.api_version}"
        )


class OpenAICompatibleChatModel(OpenAIChatModel):
    """Any server speaking the Chat Completions dialect; presets set the URL and key env var."""

    provider: ClassVar[str] = "openai_compatible"


COMPATIBLE_PRESETS: dict[str, tuple[str, str]] = {
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "deepseek": ("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "xai": ("https://api.x.ai/v1", "XAI_API_KEY"),
    "mistralai": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "together": ("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "fireworks": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "perplexity": ("https://api.perplexity.ai", "PERPLEXITY_API_KEY"),
}
"""Provider name -> (base URL, API-key env var) for OpenAI-compatible services."""


def compatible_class(name: str) -> type[OpenAICompatibleChatModel]:
    """The preset class for an OpenAI-compatible provider such as ``"groq"``."""
    base_url, env = COMPATIBLE_PRESETS[name]
    title = "".join(part.title() for part in name.split("_"))
    return type(
        f"{title}ChatModel",
        (OpenAICompatibleChatModel,),
        {
            "provider": name,
            "default_base_url": base_url,
            "api_key_env": env,
            "base_url_env": None,
            "__doc__": f"{title} through its OpenAI-compatible API ({base_url}); key from {env}.",
        },
    )


GroqChatModel = compatible_class("groq")
DeepSeekChatModel = compatible_class("deepseek")
XAIChatModel = compatible_class("xai")
MistralAIChatModel = compatible_class("mistralai")
OpenRouterChatModel = compatible_class("openrouter")
TogetherChatModel = compatible_class("together")
FireworksChatModel = compatible_class("fireworks")
PerplexityChatModel = compatible_class("perplexity")
