"""myna.evals over LangChain: a LangChain model taken in with `from_langchain`, and a
LangChain agent whose model is a myna fake (its model calls are scored)."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.language_models import FakeListChatModel
from langchain_core.tools import tool

from myna.evals import Case, Dataset, evaluate
from myna.evals import evaluators as ev
from myna.fakes import FakeChatModel, tool_call
from myna.interop.langchain import from_langchain, to_langchain


def test_a_langchain_model_is_evaluated_like_a_myna_model() -> None:
    model = from_langchain(FakeListChatModel(responses=["Sunny in Paris.", "Rain in Oslo."]))
    dataset = Dataset(
        [
            Case("paris", "Weather in Paris?", expected="sunny"),
            Case("oslo", "Weather in Oslo?", expected="sunny"),
        ],
        evaluators=[ev.contains(ignore_case=True)],
    )
    report = evaluate(model, dataset, max_concurrency=1)
    assert [c.status for c in report.cases] == ["pass", "fail"]


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


def test_a_langchain_agent_on_a_fake_is_scored_on_its_tool_calls() -> None:
    fake = FakeChatModel([tool_call("get_weather", city="Paris"), "Sunny in Paris."])
    agent = create_agent(to_langchain(fake), tools=[get_weather])

    def app(question: str) -> str:
        return agent.invoke({"messages": [("user", question)]})["messages"][-1].content

    dataset = Dataset(
        [Case("paris", "Weather in Paris?", expected="sunny")],
        evaluators=[
            ev.contains(ignore_case=True),
            ev.tool_called("get_weather", {"city": "Paris"}),
        ],
    )
    report = evaluate(app, dataset)
    assert report.passed, report.summary()
