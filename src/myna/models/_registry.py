"""The provider registry, `init_chat_model`, and configurable models."""

from __future__ import annotations

import difflib
import importlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from ..exceptions import UnknownProviderError, UserError
from ._base import HARNESS_PARAMS, REQUEST_PARAMS, STANDARD_PARAMS, ChatModel
from ._bound import BIND_TOOLS_KEYWORDS
from ._config import _OVERRIDES, ModelOverride
from ._params import check_keywords
from ._runnable import Runnable

__all__ = [
    "ConfigurableChatModel",
    "add_model_override",
    "init_chat_model",
    "known_providers",
    "register_provider",
    "remove_model_override",
]

ProviderFactory = Callable[..., ChatModel]

_REGISTRY: dict[str, ProviderFactory | str] = {}
"""Provider name -> factory, or a ``"module:attribute"`` string imported on first use."""

_PREFIXES: list[tuple[str, str]] = [
    ("gpt-", "openai"),
    ("chatgpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-davinci", "openai"),
    ("ft:gpt", "openai"),
    ("claude", "anthropic"),
    ("gemini", "google_genai"),
    ("mistral", "mistralai"),
    ("mixtral", "mistralai"),
    ("codestral", "mistralai"),
    ("magistral", "mistralai"),
    ("deepseek", "deepseek"),
    ("grok", "xai"),
    ("sonar", "perplexity"),
    ("accounts/fireworks", "fireworks"),
    ("amazon.", "bedrock"),
    ("anthropic.", "bedrock"),
    ("meta.", "bedrock"),
]
"""Model-name prefixes that identify a provider (checked in order, lower-cased)."""


def register_provider(
    name: str,
    factory: ProviderFactory | str,
    *,
    prefixes: Sequence[str] = (),
    replace: bool = False,
) -> None:
    """Make `init_chat_model("name:model")` build models with `factory(model=..., **params)`.

    Args:
        name: provider key, lower case, e.g. ``"acme"``.
        factory: a `ChatModel` subclass or a callable returning one, or a
            ``"package.module:Class"`` string imported on first use.
        prefixes: model-name prefixes that imply this provider (``"acme-"``).
        replace: allow replacing an existing registration.
    """
    key = _normalize(name)
    if key in _REGISTRY and not replace:
        raise UserError(
            f"Provider {key!r} is already registered ({_REGISTRY[key]!r}); pass replace=True "
            "to replace it."
        )
    _REGISTRY[key] = factory
    for prefix in prefixes:
        _PREFIXES.insert(0, (prefix.lower(), key))


def add_model_override(override: ModelOverride) -> None:
    """Send every `init_chat_model` (and every call of an existing overridable model) to
    `override` until `remove_model_override`; the last one added wins.

    The hook under `myna.testing.override_models`, which is what tests should use:

    ```python
    add_model_override(override)
    try:
        ...  # init_chat_model(...) returns override(model, provider, params)
    finally:
        remove_model_override(override)
    ```
    """
    _OVERRIDES.append(override)


def remove_model_override(override: ModelOverride) -> None:
    """Undo `add_model_override`; an override not added is ignored."""
    try:
        _OVERRIDES.remove(override)
    except ValueError:
        pass


def known_providers() -> list[str]:
    """Sorted names of every registered provider."""
    _ensure_builtins()
    return sorted(_REGISTRY)


def _normalize(provider: str) -> str:
    return provider.replace("-", "_").lower()


_builtins_loaded = False
_builtins_lock = threading.Lock()


_BUILTIN_PROVIDERS = {
    "fake": "myna.fakes:_fake_factory",
    "openai": "myna.providers._openai:OpenAIChatModel",
    "azure_openai": "myna.providers._openai:AzureOpenAIChatModel",
    "anthropic": "myna.providers._anthropic:AnthropicChatModel",
    "google_genai": "myna.providers._google:GoogleGenAIChatModel",
    "ollama": "myna.providers._ollama:OllamaChatModel",
    "groq": "myna.providers._openai:GroqChatModel",
    "deepseek": "myna.providers._openai:DeepSeekChatModel",
    "xai": "myna.providers._openai:XAIChatModel",
    "mistralai": "myna.providers._openai:MistralAIChatModel",
    "openrouter": "myna.providers._openai:OpenRouterChatModel",
    "together": "myna.providers._openai:TogetherChatModel",
    "fireworks": "myna.providers._openai:FireworksChatModel",
    "perplexity": "myna.providers._openai:PerplexityChatModel",
    "bedrock": "myna.providers._bedrock:BedrockChatModel",
}
"""Built-in providers, imported on first use so `init_chat_model('fake:...')` stays light.

Like entry points, these are ``"module:attribute"`` paths: `models` never imports the
packages above it (`fakes`, `providers`); `_factory` loads the one a model string names."""


def _ensure_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _builtins_lock:
        if _builtins_loaded:
            return
        for name, target in _BUILTIN_PROVIDERS.items():
            _REGISTRY.setdefault(name, target)
        # set only once every entry is in: a thread that sees the flag sees them all
        _builtins_loaded = True


def _factory(provider: str) -> ProviderFactory:
    _ensure_builtins()
    entry = _REGISTRY.get(provider)
    if entry is None:
        raise _unknown_provider(provider, None)
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        _REGISTRY[provider] = entry
    return entry


def _unknown_provider(provider: str, model_string: str | None) -> UnknownProviderError:
    known = known_providers()
    close = difflib.get_close_matches(provider, known, n=1)
    where = f" in {model_string!r}" if model_string else ""
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UnknownProviderError(
        f"Unknown provider {provider!r}{where}.{hint} Known providers: {', '.join(known)}. "
        "Register your own with myna.register_provider()."
    )


def infer_provider(model: str) -> str | None:
    """The provider a model name implies (``"claude-3-5-haiku"`` -> ``"anthropic"``), or None."""
    lowered = model.lower()
    for prefix, provider in _PREFIXES:
        if lowered.startswith(prefix):
            return provider
    return None


_EXAMPLE_MODELS = {
    "openai": "gpt-4.1-mini",
    "azure_openai": "gpt-4.1-mini",
    "anthropic": "claude-haiku-4-5",
    "google_genai": "gemini-2.5-flash",
    "ollama": "llama3.1",
    "groq": "llama-3.3-70b-versatile",
    "deepseek": "deepseek-chat",
    "xai": "grok-3-mini",
    "mistralai": "mistral-small-latest",
    "openrouter": "openai/gpt-4.1-mini",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "fireworks": "accounts/fireworks/models/llama-v3p1-8b-instruct",
    "perplexity": "sonar",
    "bedrock": "amazon.nova-lite-v1:0",
    "fake": "scripted",
}
"""A model of each built-in provider, for messages that show a complete model string."""


def _example(provider: str) -> str:
    return f"{provider}:{_EXAMPLE_MODELS.get(provider, '<model>')}"


def _one_edit_apart(a: str, b: str, *, substitute: bool = True) -> bool:
    """True when one insertion, deletion, swap of neighbours or (with `substitute`)
    substitution turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return substitute
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1 :]


def _close_prefix(model: str) -> tuple[str, str] | None:
    """``(corrected model, provider)`` when the start of `model` is one typo away from a
    known model-name prefix (``"gtp-4.1"`` -> ``("gpt-4.1", "openai")``), else None."""
    lowered = model.lower()
    found: list[tuple[bool, float, str, str]] = []
    for prefix, provider in _PREFIXES:
        # short prefixes (o1, o3) and namespaces (amazon., meta.) match too much by accident,
        # and one changed letter in a short word is another word ('solar' is not 'sonar')
        if len(prefix) < 4 or not prefix.rstrip("-").isalpha():
            continue
        for size in (len(prefix) - 1, len(prefix), len(prefix) + 1):
            head = lowered[:size]
            if size <= len(lowered) and _one_edit_apart(head, prefix, substitute=len(prefix) >= 6):
                rest = model[size:]
                # a cut before a separator or digit reads right ('claud-3' -> 'claude-3',
                # not 'claude3'); then the closer spelling wins
                clean = not rest[:1].isalpha()
                corrected = prefix + rest
                score = difflib.SequenceMatcher(None, corrected.lower(), lowered).ratio()
                found.append((clean, score, corrected, provider))
    if not found:
        return None
    *_, corrected, provider = max(found, key=lambda f: (f[0], f[1]))
    return corrected, provider


def _no_provider(model: str) -> UnknownProviderError:
    """The error for a bare model name no prefix places: a provider named alone, a typo in
    a known prefix, or a model that needs ``provider:`` in front."""
    key = _normalize(model)
    known = known_providers()
    if key in known:
        return UnknownProviderError(f"{model!r} is a provider; add a model: {_example(key)!r}.")
    close = _close_prefix(model)
    if close is not None:
        corrected, provider = close
        return UnknownProviderError(
            f"Cannot tell the provider of model {model!r}. Did you mean {corrected!r}, i.e. "
            f"{provider + ':' + corrected!r}? Otherwise write it as 'provider:model' or pass "
            "model_provider=."
        )
    near = [name for name in known if _one_edit_apart(key, name, substitute=len(key) >= 6)]
    if near:
        return UnknownProviderError(
            f"Cannot tell the provider of model {model!r}. Did you mean the provider "
            f"{near[0]!r}? Add a model: {_example(near[0])!r}."
        )
    return UnknownProviderError(
        f"Cannot tell the provider of model {model!r}. Write it as 'provider:model' "
        f"(e.g. 'ollama:{model}') or pass model_provider=. Known providers: "
        f"{', '.join(known)}."
    )


def _no_model(provider: str) -> UserError:
    return UserError(f"No model name after {provider + ':'!r}; add one: {_example(provider)!r}.")


def parse_model_string(model: str, model_provider: str | None = None) -> tuple[str, str]:
    """Split ``"provider:model"`` and infer providers; returns ``(provider, model)``."""
    if not isinstance(model, str):
        raise UserError(
            f"model must be a string like 'openai:gpt-4.1', got {type(model).__name__}."
        )
    if not model.strip() and not model_provider:
        raise UserError(
            "The model string is empty; write 'provider:model', e.g. 'openai:gpt-4.1-mini'."
        )
    if model_provider:
        provider = _normalize(model_provider)
        if provider not in known_providers():
            raise _unknown_provider(provider, None)
        if not model.strip():
            raise _no_model(provider)
        return provider, model
    head, sep, rest = model.partition(":")
    if sep:
        provider = _normalize(head)
        if provider in known_providers():
            if not rest.strip():
                raise _no_model(provider)
            return provider, rest
        inferred = infer_provider(model)
        if inferred:
            return inferred, model
        error = _unknown_provider(provider, model)
        raise UnknownProviderError(
            f"{error} If {model!r} is itself a model name (Ollama tags contain ':'), pass "
            "model_provider= as well, e.g. init_chat_model('llama3.1:8b', model_provider='ollama')."
        )
    inferred = infer_provider(model)
    if inferred is None:
        raise _no_provider(model)
    return inferred, model


def _build(model: str | None, model_provider: str | None, params: dict[str, Any]) -> ChatModel:
    if _OVERRIDES:
        return _OVERRIDES[-1](model, model_provider, params)
    if model is None:
        raise UserError(
            "No model given: pass init_chat_model('provider:model'), or set "
            "config={'configurable': {'model': ...}} when calling a configurable model."
        )
    provider, name = parse_model_string(model, model_provider)
    built = _factory(provider)(model=name, **params)
    if isinstance(built, ChatModel):
        # an override entered later looks the model up by the string it was built from
        built._origin = (model, model_provider, dict(params))
    return built


def init_chat_model(
    model: str | None = None,
    *,
    model_provider: str | None = None,
    configurable_fields: str | Sequence[str] | None = None,
    config_prefix: str | None = None,
    **params: Any,
) -> Any:
    """Build a chat model from ``"provider:model"`` and parameters.

    ```python
    model = init_chat_model("fake:scripted", script=["Hi!"])
    model = init_chat_model("claude-haiku-4-5")            # provider inferred: anthropic
    switchable = init_chat_model(configurable_fields=("model", "temperature"))
    switchable.invoke("hi", config={"configurable": {"model": "fake:scripted"}})
    ```

    Args:
        model: ``"provider:model"`` or a bare model name whose prefix names the provider.
        model_provider: the provider, when `model` is a bare name.
        configurable_fields: make the model configurable at run time: ``"any"`` or a tuple
            of parameter names read from ``config["configurable"]``. With no `model`, the
            default is ``("model", "model_provider")``. ``"any"`` takes the standard and
            request parameters plus the chosen provider's own ones (`ChatModel.extra_params`)
            and leaves other keys (``thread_id``, ...) alone.
        config_prefix: read ``f"{prefix}_{field}"`` keys instead of bare field names.
        **params: model parameters (`temperature`, `max_tokens`, ...); an unknown one is an error.
    """
    if configurable_fields is None and model is None:
        configurable_fields = ("model", "model_provider")
    if configurable_fields is None:
        if config_prefix:
            raise UserError(
                "config_prefix= only applies to configurable models; also pass "
                "configurable_fields=('model', ...) or 'any'."
            )
        return _build(model, model_provider, params)
    defaults = dict(params)
    if model is not None:
        defaults["model"] = model
    if model_provider is not None:
        defaults["model_provider"] = model_provider
    return ConfigurableChatModel(defaults, configurable_fields, config_prefix)


_MODEL_PARAMS = STANDARD_PARAMS | HARNESS_PARAMS | REQUEST_PARAMS | {"model_provider"}


def _provider_params(params: dict[str, Any]) -> frozenset[str]:
    """The provider-specific parameters (``extra_params``) of the model `params` would build."""
    model = params.get("model")
    if not isinstance(model, str):
        return frozenset()
    try:
        provider, _ = parse_model_string(model, params.get("model_provider"))
        factory = _factory(provider)
    except (UserError, ImportError, AttributeError):
        return frozenset()
    extras = getattr(factory, "extra_params", frozenset())
    return frozenset(extras) if isinstance(extras, (set, frozenset)) else frozenset()


class ConfigurableChatModel(Runnable):
    """A model chosen at call time from ``config["configurable"]``.

    `bind_tools`, `with_structured_output` and `bind` are queued and applied to whichever
    model a call resolves to. Models are cached per resolved configuration.
    """

    def __init__(
        self,
        defaults: dict[str, Any],
        fields: str | Sequence[str],
        prefix: str | None,
        queue: list[tuple[str, tuple, dict]] | None = None,
    ) -> None:
        if fields != "any" and (isinstance(fields, str) or not isinstance(fields, Sequence)):
            raise UserError(
                f"configurable_fields={fields!r} must be 'any' or a tuple of names like "
                "('model', 'temperature')."
            )
        self.defaults = defaults
        self.fields = fields if fields == "any" else tuple(fields)
        self.prefix = (prefix.rstrip("_") + "_") if prefix else ""
        self._queue = list(queue or [])
        self._cache: dict[str, Runnable] = {}

    def __repr__(self) -> str:
        return (
            f"ConfigurableChatModel(defaults={self.defaults!r}, fields={self.fields!r}, "
            f"prefix={self.prefix!r})"
        )

    def _queued(self, name: str, args: tuple, kwargs: dict) -> ConfigurableChatModel:
        return ConfigurableChatModel(
            self.defaults, self.fields, self.prefix, [*self._queue, (name, args, kwargs)]
        )

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ConfigurableChatModel:
        """Queue `bind_tools` for the model chosen at run time (see `ChatModel.bind_tools`)."""
        check_keywords("bind_tools()", kwargs, BIND_TOOLS_KEYWORDS)
        return self._queued("bind_tools", (tools,), kwargs)

    def with_structured_output(self, schema: Any, **kwargs: Any) -> ConfigurableChatModel:
        """Queue `with_structured_output` for the model chosen at run time."""
        check_keywords("with_structured_output()", kwargs, ("method", "include_raw", "strict"))
        return self._queued("with_structured_output", (schema,), kwargs)

    def bind(self, **params: Any) -> ConfigurableChatModel:
        """Queue `bind(**params)` for the model chosen at run time."""
        return self._queued("bind", (), params)

    def resolve_params(self, config: dict[str, Any] | None) -> dict[str, Any]:
        """The model parameters a call with `config` uses."""
        configurable = dict((config or {}).get("configurable") or {})
        chosen: dict[str, Any] = {}
        for key, value in configurable.items():
            if self.prefix:
                if not key.startswith(self.prefix):
                    continue
                field = key[len(self.prefix) :]
            else:
                field = key
            allowed = self.fields == "any" or field in self.fields
            if allowed and (self.fields != "any" or field in _MODEL_PARAMS or self.prefix):
                chosen[field] = value
            elif field in _MODEL_PARAMS or self.prefix:
                raise UserError(
                    f"config['configurable'][{key!r}] is not a configurable field of this model "
                    f"(configurable_fields={self.fields!r}). Add {field!r} to configurable_fields."
                )
        params = dict(self.defaults)
        if "model" in chosen and "model_provider" not in chosen:
            params.pop("model_provider", None)
            runtime = chosen["model"]
            if isinstance(runtime, str) and ":" not in runtime and infer_provider(runtime) is None:
                # a bare name the prefixes cannot place keeps the default's provider
                default_model = self.defaults.get("model")
                provider = self.defaults.get("model_provider")
                if provider is None and isinstance(default_model, str):
                    provider = parse_model_string(default_model)[0]
                if provider:
                    params["model_provider"] = provider
        params.update(chosen)
        if self.fields == "any" and not self.prefix:
            # provider-specific parameters of the model this call resolves to are configurable
            # too; keys no model takes (thread_id and the like) are left for other consumers
            extras = _provider_params(params)
            for key, value in configurable.items():
                if key in extras and key not in chosen:
                    params[key] = value
        return params

    def _resolve(self, config: dict[str, Any] | None) -> Runnable:
        params = self.resolve_params(config)
        key = repr(sorted(params.items(), key=lambda kv: kv[0]))
        # while a test overrides models, build afresh and do not cache the override
        runnable = None if _OVERRIDES else self._cache.get(key)
        if runnable is None:
            params = dict(params)
            model = params.pop("model", None)
            provider = params.pop("model_provider", None)
            runnable = _build(model, provider, params)
            for name, args, kwargs in self._queue:
                runnable = getattr(runnable, name)(*args, **kwargs)
            if not _OVERRIDES:
                self._cache[key] = runnable
        return runnable

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self._resolve(config).invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return await self._resolve(config).ainvoke(input, config, **kwargs)

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        return self._resolve(config).stream(input, config, **kwargs)

    def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        return self._resolve(config).astream(input, config, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if "model" not in self.defaults:
            raise AttributeError(
                f"{name!r}: this configurable model has no default model yet, so it has no "
                "attributes to read; pass "
                "init_chat_model('provider:model', configurable_fields=...)."
            )
        return getattr(self._resolve(None), name)
