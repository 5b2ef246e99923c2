"""`SchemaChatModel`: a fake that needs no script; it answers from the schemas it is given."""

from __future__ import annotations

from typing import Any, ClassVar

from ..messages import AIMessage, ToolMessage
from ..models import ChatRequest
from ._base import FakeBase
from ._script import FakeCall, Fault, reply_to_message
from ._seed import current_seed
from ._values import example_value

__all__ = ["SchemaChatModel"]


class SchemaChatModel(FakeBase):
    """A chat model that needs no script: it calls your tools and fills your schemas.

    ```python
    from myna.fakes import SchemaChatModel

    model = SchemaChatModel(seed=0).bind_tools([get_weather])
    first = model.invoke("Weather in Paris?")      # calls get_weather with valid args
    ```

    - With tools bound (and ``tool_choice`` not ``"none"``), a turn that has not called
      tools yet calls each bound tool once (only the forced one under a named
      ``tool_choice``), with arguments generated from the tool's JSON schema.
    - After tool results, it answers with text that quotes each result.
    - With `with_structured_output`, it returns a schema-valid object.
    - Otherwise it answers with a short text naming the question.

    Its surface is `ChatModel`'s plus `calls`. Deterministic: the same `seed` and schemas
    give the same arguments and objects.
    """

    __test__ = False
    default_model: ClassVar[str] = "fake-schema"
    extra_params = FakeBase.extra_params | {"seed"}

    def __init__(self, **kwargs: Any) -> None:
        self.seed: int = kwargs.pop("seed", 0)
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"SchemaChatModel(seed={self.seed!r})"

    def _seed(self) -> str:
        # inside an evaluation each run has a seed of its own, so repeats can differ
        run = current_seed()
        return f"{self.seed}" if run is None else f"{self.seed}/{run}"

    def _reply(self, request: ChatRequest, call: FakeCall) -> tuple[AIMessage, Fault | None]:
        index = len(self.calls) - 1
        structured = self.structured_info(request)
        if structured and structured.get("schema") is not None:
            value = example_value(structured["schema"], f"{self._seed()}:{structured['name']}")
            message = reply_to_message(value, call_index=index, structured=structured)
        else:
            message = self._tool_turn(request, index) or self._text_turn(request)
        self._check_tool_calls(message, request, f"SchemaChatModel call #{index + 1}")
        return self._complete(message, request, index), None

    def _tool_turn(self, request: ChatRequest, index: int) -> AIMessage | None:
        tools = [t for t in request.tools if "name" in t and "parameters" in t]
        choice = request.tool_choice
        if not tools or choice == "none" or isinstance(request.messages[-1], ToolMessage):
            return None
        if isinstance(choice, str) and choice not in ("auto", "any"):
            tools = [t for t in tools if t["name"] == choice]
        calls = [
            {
                "name": spec["name"],
                "args": example_value(spec["parameters"], f"{self._seed()}:{spec['name']}"),
                "id": f"call_{index}_{i}",
                "type": "tool_call",
            }
            for i, spec in enumerate(tools)
        ]
        return AIMessage("", tool_calls=calls)

    def _text_turn(self, request: ChatRequest) -> AIMessage:
        results: list[ToolMessage] = []
        for message in reversed(request.messages):
            if not isinstance(message, ToolMessage):
                break
            results.append(message)
        if results:
            quoted = "; ".join(
                f"{m.name or m.tool_call_id} returned {m.text}" for m in reversed(results)
            )
            return AIMessage(f"Here is what I found: {quoted}.")
        question = request.messages[-1].text if request.messages else ""
        short = question if len(question) <= 60 else question[:57] + "..."
        return AIMessage(f"SchemaChatModel(seed={self.seed}) answers: {short}")
