"""Real providers: `ChatModel` + codec + httpx transport.

```python
from myna import init_chat_model

model = init_chat_model("anthropic:claude-haiku-4-5", max_tokens=512)
```

Registered providers: openai, azure_openai, anthropic, google_genai, ollama, bedrock, and the
OpenAI-compatible presets groq, deepseek, xai, mistralai, openrouter, together, fireworks,
perplexity. Any other OpenAI-compatible server: ``init_chat_model("openai:<model>",
base_url="http://localhost:8000/v1")``.
"""

from ._anthropic import AnthropicChatModel
from ._bedrock import BedrockChatModel
from ._google import GoogleGenAIChatModel
from ._http import HTTPChatModel
from ._ollama import OllamaChatModel
from ._openai import (
    COMPATIBLE_PRESETS,
    AzureOpenAIChatModel,
    DeepSeekChatModel,
    FireworksChatModel,
    GroqChatModel,
    MistralAIChatModel,
    OpenAIChatModel,
    OpenAICompatibleChatModel,
    OpenRouterChatModel,
    PerplexityChatModel,
    TogetherChatModel,
    XAIChatModel,
    compatible_class,
)

__all__ = [
    "AnthropicChatModel",
    "AzureOpenAIChatModel",
    "BedrockChatModel",
    "COMPATIBLE_PRESETS",
    "DeepSeekChatModel",
    "FireworksChatModel",
    "GoogleGenAIChatModel",
    "GroqChatModel",
    "HTTPChatModel",
    "MistralAIChatModel",
    "OllamaChatModel",
    "OpenAIChatModel",
    "OpenAICompatibleChatModel",
    "OpenRouterChatModel",
    "PerplexityChatModel",
    "TogetherChatModel",
    "XAIChatModel",
    "compatible_class",
]
