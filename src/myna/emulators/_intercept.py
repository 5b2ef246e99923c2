"""`emulate(...)`: the emulator wired into httpx and httpx2 with respx, in-process."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from ..exceptions import EmulatorError, UserError
from . import _aiohttp
from ._app import EmulatedRequest, EmulatedResponse, EmulatorApp

__all__ = ["PROVIDER_HOSTS", "Emulator", "Interception", "emulate"]

PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {
    "openai": ("https://api.openai.com",),
    "anthropic": ("https://api.anthropic.com",),
    "google_genai": ("https://generativelanguage.googleapis.com",),
    "gemini": ("https://generativelanguage.googleapis.com",),
    "ollama": ("http://localhost:11434", "http://127.0.0.1:11434", "https://ollama.com"),
    "groq": ("https://api.groq.com",),
    "deepseek": ("https://api.deepseek.com",),
    "xai": ("https://api.x.ai",),
    "mistralai": ("https://api.mistral.ai",),
    "openrouter": ("https://openrouter.ai",),
    "together": ("https://api.together.xyz",),
    "fireworks": ("https://api.fireworks.ai",),
    "perplexity": ("https://api.perplexity.ai",),
    "bedrock": ("https://bedrock-runtime.us-east-1.amazonaws.com",),
}
"""Where each provider's API lives; `emulate(provider)` answers requests to these."""


def _mocker_name(flavour: str) -> str | None:
    """The respx mocker for a client flavour, or None when that client is not installed."""
    if flavour == "httpx2":
        try:
            import httpcore2  # noqa: F401
        except ImportError:
            return None
        from ._httpcore2 import HTTPCore2Mocker

        return HTTPCore2Mocker.name
    return "httpcore"


def _errors(flavour: str) -> Any:
    if flavour == "httpx2":
        import httpcore2

        return httpcore2
    import httpcore

    return httpcore


class _EventStream:
    """Stream events one by one; drop the connection after `cut_after` events if asked."""

    def __init__(
        self, events: list[bytes], cut_after: int | None, errors: Any, delay: float = 0.0
    ) -> None:
        self.events = events
        self.cut_after = cut_after
        self.errors = errors
        self.delay = delay

    def _parts(self) -> Iterator[bytes]:
        for i, event in enumerate(self.events):
            if self.cut_after is not None and i >= self.cut_after:
                break
            yield event
        if self.cut_after is not None:
            raise self.errors.RemoteProtocolError(
                "myna emulator: connection dropped mid-stream (scripted fault.disconnect)"
            )

    def __iter__(self) -> Iterator[bytes]:
        if not self.delay:
            yield from self._parts()
            return
        for i, part in enumerate(self._parts()):
            if i:
                time.sleep(self.delay)
            yield part

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, part in enumerate(self._parts()):
            if i and self.delay:
                await asyncio.sleep(self.delay)
            yield part

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


@functools.cache
def _not_emulated_class() -> type[AssertionError]:
    """The error for a request no emulator answers, built when respx is first imported.

    It subclasses respx's own "not mocked" error, on which respx tries the next active
    router, so nested emulators for other hosts still answer; when none does, the test
    sees this error and its ``myna:`` message.
    """
    from respx.models import AllMockedAssertionError

    return type("RequestNotEmulated", (AllMockedAssertionError,), {"__module__": __name__})


class Emulator:
    """A provider API emulated in-process: requests from httpx, httpx2 and aiohttp clients
    (our providers, the official SDKs, google-genai's and litellm's async calls) to the
    provider's hosts are answered from a script.

    ```python
    from myna.emulators import emulate

    with emulate("anthropic", script=["Hello!"]) as server:
        model = init_chat_model("anthropic:claude-haiku-4-5", api_key="test")
        assert model.invoke("Hi").text == "Hello!"
    assert server.requests[0].last_message.text == "Hi"
    ```

    Strict by default: on exit it fails if a scripted reply was never requested
    (``assert_all_replies_used``) or a request hit a script error
    (``assert_all_requests_matched``): `UnusedRepliesError`, `UnmatchedRequestError`. The
    client itself gets a script error as a 400 in the provider's error format (``myna emulator
    script error: ...``), which no client retries and which uses up no scripted reply. While
    active, any other HTTP request made with httpx / httpx2 / aiohttp fails with
    ``RequestNotEmulated`` (an `AssertionError`) instead of reaching the network.

    On its hosts it answers every protocol's paths (a provider's host may serve an
    OpenAI-compatible API too), and the model endpoints clients call besides chat (``GET
    /v1/models``, Ollama's ``/api/show``, Gemini's ``models.get``) in the provider's shape,
    from `models` or the names the script and requests use; those use no scripted reply and
    are kept in `model_requests`, not `requests`.

    Args:
        provider: whose hosts to answer (`PROVIDER_HOSTS`); None with `base_url` for others.
        script: replies, as for `FakeChatModel`, or the path of a YAML script.
        base_url: more URL prefixes to answer (Azure resources, vLLM, a proxy's URL).
        chunking: how streamed replies are cut (``"words"``, ``"chars"`` or a size).
        event_delay: seconds between stream events, to test timing and cancellation.
        cycle, require_auth, validate_tool_calls: see `EmulatorApp`.
        assert_all_replies_used, assert_all_requests_matched: the checks on exit.
        models: the model names the model endpoints (``GET /v1/models``, Ollama's
            ``/api/show``, ...) list; see `EmulatorApp`.
    """

    def __init__(
        self,
        provider: str | None = None,
        script: Sequence[Any] = (),
        *,
        base_url: str | Sequence[str] | None = None,
        chunking: Any = "words",
        event_delay: float = 0.0,
        cycle: bool = False,
        require_auth: bool = True,
        validate_tool_calls: bool = True,
        assert_all_replies_used: bool = True,
        assert_all_requests_matched: bool = True,
        models: Sequence[str] = (),
    ) -> None:
        if provider == "azure_openai" and base_url is None:
            raise UserError(
                "emulate('azure_openai') needs the resource endpoint, as every Azure resource "
                "has its own host: emulate('azure_openai', base_url='https://<resource>.openai."
                "azure.com'), with the same azure_endpoint= on the model."
            )
        if provider is not None and provider not in PROVIDER_HOSTS and base_url is None:
            raise UserError(
                f"emulate() does not know provider {provider!r}; known: "
                f"{', '.join(sorted(PROVIDER_HOSTS))}. Pass base_url= for any other server."
            )
        if not isinstance(event_delay, (int, float)) or event_delay < 0:
            raise UserError(f"event_delay={event_delay!r} must be a number of seconds >= 0.")
        self.event_delay = float(event_delay)
        self.provider = provider
        self.app = EmulatorApp(
            script,
            chunking=chunking,
            cycle=cycle,
            require_auth=require_auth,
            validate_tool_calls=validate_tool_calls,
            provider=provider,
            models=models,
        )
        urls: list[str] = list(PROVIDER_HOSTS.get(provider or "", ()))
        if isinstance(base_url, str):
            urls.append(base_url)
        elif base_url:
            urls.extend(base_url)
        self.base_urls = [u.rstrip("/") for u in urls]
        self.assert_all_replies_used = assert_all_replies_used
        self.assert_all_requests_matched = assert_all_requests_matched
        self._routers: list[Any] = []
        self._via: Interception | None = None
        self._handlers: dict[str, Callable[[Any], Any]] = {}

    def __repr__(self) -> str:
        return f"Emulator({self.provider!r}, {len(self.requests)} requests)"

    # -- the script and what happened ---------------------------------------------------------

    @property
    def requests(self) -> list[EmulatedRequest]:
        """Every request received, decoded into messages and params."""
        return self.app.requests

    @property
    def model_requests(self) -> list[EmulatedRequest]:
        """Requests to the model endpoints (``GET /v1/models``, ``POST /api/show``, ...),
        which use no scripted reply and are kept apart from `requests`."""
        return self.app.model_requests

    @property
    def calls(self) -> _Calls:
        """The requests, with ``.last`` and ``.count`` helpers."""
        return _Calls(self.app.requests)

    @property
    def script(self) -> list[Any]:
        """The remaining script, appendable: ``server.script.append("Another reply")``."""
        return self.app.engine.script

    def add(self, *replies: Any) -> Emulator:
        """Append replies to the script; returns the emulator."""
        self.app.engine.script.extend(replies)
        return self

    # -- interception -------------------------------------------------------------------------

    def _handler(self, flavour: str) -> Callable[[Any], Any]:
        handler = self._handlers.get(flavour)
        if handler is None:
            handler = self._handlers[flavour] = self._make_handler(flavour)
        return handler

    def _make_handler(self, flavour: str) -> Callable[[Any], Any]:
        errors = _errors(flavour)

        def handle(request: Any) -> Any:
            import httpx

            response: EmulatedResponse = self.app.handle(
                request.method, str(request.url), dict(request.headers), request.content
            )
            if response.timeout:
                raise errors.ReadTimeout("myna emulator: scripted timeout")
            if response.events is None and response.cut_after == 0:
                raise errors.RemoteProtocolError("myna emulator: scripted disconnect")
            if response.events is not None:
                stream = _EventStream(response.events, response.cut_after, errors, self.event_delay)
                return httpx.Response(response.status, headers=response.headers, stream=stream)  # type: ignore[arg-type]
            return httpx.Response(response.status, headers=response.headers, content=response.body)

        return handle

    def start(self, *, via: Interception | None = None) -> Emulator:
        """Begin intercepting (the context manager calls this).

        Args:
            via: answer through this shared `Interception` instead of patching httpx and
                httpx2 for this emulator alone (what the pytest plugin's ``emulator`` fixture
                does: one interception per session, so a test pays for no patching).
        """
        if via is not None:
            via.attach(self)
            self._via = via
            return self
        import respx

        try:
            for flavour in ("httpx", "httpx2"):
                using = _mocker_name(flavour)
                if using is None:
                    continue  # httpx2 not installed: nothing to intercept there
                router = respx.MockRouter(
                    assert_all_called=False, assert_all_mocked=True, using=using
                )
                handler = self._handler(flavour)
                if self.base_urls:
                    for url in self.base_urls:
                        router.route(url__startswith=url).mock(side_effect=handler)
                    router.route().mock(side_effect=self._not_emulated)
                else:
                    router.route().mock(side_effect=handler)
                router.start()
                self._routers.append(router)
            _aiohttp.attach(self, lambda: [self])
        except BaseException:
            # never leave half an emulator patched in
            self.stop(check=False)
            raise
        return self

    def _not_emulated(self, request: Any) -> Any:
        raise _not_emulated_class()(
            f"myna: {request.method} {request.url} was blocked: emulate({self.provider!r}) "
            f"answers {', '.join(self.base_urls)} and no request leaves the process while it "
            "is active. Point the client at one of those, or add its URL with base_url=."
        )

    def stop(self, check: bool = True) -> None:
        """Stop intercepting; with `check`, enforce the strict assertions."""
        if self._via is not None:
            self._via.detach(self)
            self._via = None
        for router in self._routers:
            router.stop(quiet=True)
        self._routers.clear()
        _aiohttp.detach(self)
        if check:
            self.verify()

    def verify(self) -> None:
        """Raise `UnmatchedRequestError` if requests hit script errors, `UnusedRepliesError`
        if scripted replies went unused (both are `AssertionError`s)."""
        self.app.verify(
            all_replies_used=self.assert_all_replies_used,
            all_requests_matched=self.assert_all_requests_matched,
        )

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(check=exc_type is None)

    async def __aenter__(self) -> Emulator:
        return self.start()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(check=exc_type is None)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use as a decorator: the emulator is active for the duration of each call."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self:
                    return await fn(*args, **kwargs)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper


class Interception:
    """One interception of httpx and httpx2 (respx routers), installed once and shared by the
    emulators started through it: ``emulator.start(via=interception)``.

    Starting an emulator on its own patches both clients and builds its routes, about a
    millisecond; through a shared interception it costs a list append. The pytest plugin
    keeps one per session for its ``emulator`` fixture.

    ```python
    from myna.emulators import Interception, emulate

    shared = Interception()
    server = emulate("openai", script=["Hello!"]).start(via=shared)
    ...  # requests to api.openai.com are answered by `server`
    server.stop()
    shared.uninstall()  # at the end of the session
    ```

    While no emulator is attached, requests go on as if it were not there: to the next respx
    router if there is one (a test's own ``respx_mock``, a plain `emulate()`), else to the
    network (or the cassette that records it). While emulators are attached, they answer in
    the order they were started, each for its own hosts, and any other request fails with
    ``RequestNotEmulated``, exactly as with emulators started alone.
    """

    def __init__(self) -> None:
        self._routers: list[Any] = []
        self._attached: list[Emulator] = []

    def __repr__(self) -> str:
        state = "installed" if self._routers else "not installed"
        return f"Interception({state}, {len(self._attached)} emulators attached)"

    @property
    def installed(self) -> bool:
        """Whether the patches are in place."""
        return bool(self._routers)

    def install(self) -> Interception:
        """Patch httpx and httpx2 (done by the first `attach`); returns the interception."""
        if self._routers:
            return self
        import respx

        try:
            for flavour in ("httpx", "httpx2"):
                using = _mocker_name(flavour)
                if using is None:
                    continue
                router = respx.MockRouter(
                    assert_all_called=False, assert_all_mocked=True, using=using
                )
                router.route().mock(side_effect=self._dispatcher(flavour, router))
                router.start()
                self._routers.append(router)
            _aiohttp.attach(self, lambda: self._attached)
        except BaseException:
            self.uninstall()
            raise
        return self

    def uninstall(self) -> None:
        """Remove the patches (attached emulators stop answering)."""
        for router in self._routers:
            router.stop(quiet=True)
        self._routers.clear()
        self._attached.clear()
        _aiohttp.detach(self)

    def attach(self, emulator: Emulator) -> None:
        """Let `emulator` answer its hosts' requests (installs the patches if needed)."""
        self.install()
        self._attached.append(emulator)

    def detach(self, emulator: Emulator) -> None:
        """Stop `emulator` answering; the last one out clears respx's call log."""
        if emulator in self._attached:
            self._attached.remove(emulator)
        if not self._attached:
            for router in self._routers:
                router.calls.clear()  # respx logs every call; a session would pile them up
                for route in router.routes:
                    route.calls.clear()

    def _dispatcher(self, flavour: str, router: Any) -> Callable[[Any], Any]:
        def dispatch(request: Any) -> Any:
            url = str(request.url)
            for emulator in self._attached:
                if not emulator.base_urls or url.startswith(tuple(emulator.base_urls)):
                    return emulator._handler(flavour)(request)
            if self._attached:
                return self._attached[0]._not_emulated(request)
            mocker_routers = router.Mocker.routers
            if mocker_routers and mocker_routers[-1] is router:
                return request  # respx: pass through, to the real transport
            raise _not_emulated_class()(  # the next respx router gets its turn
                f"myna: {request.method} {request.url}: no emulator is active."
            )

        return dispatch


class _Calls(list):
    """A list of requests with respx-like helpers."""

    @property
    def last(self) -> EmulatedRequest:
        if not self:
            raise EmulatorError("myna: the emulator received no requests.")
        return self[-1]

    @property
    def count(self) -> int:  # type: ignore[override]
        return len(self)

    @property
    def called(self) -> bool:
        return bool(self)


def emulate(provider: str | None = None, script: Sequence[Any] = (), **options: Any) -> Emulator:
    """An `Emulator` for `provider` answering from `script`; use it with ``with``.

    Args:
        provider: ``"openai"``, ``"anthropic"``, ``"google_genai"``, ``"ollama"``, an
            OpenAI-compatible preset, or None with ``base_url=`` for any other server.
        script: replies, as for `FakeChatModel`, or the path of a YAML script.
        **options: see `Emulator`.
    """
    return Emulator(provider, script, **options)
