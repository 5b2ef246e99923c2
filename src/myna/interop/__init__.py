"""Adapters between myna and other frameworks.

- `myna.interop.langchain` (extra ``myna[langchain]``): any myna chat model as a LangChain
  ``BaseChatModel`` (`to_langchain`), and any LangChain chat model as a myna `ChatModel`
  (`from_langchain`), so myna's fakes, emulators and cassettes serve LangChain code and
  myna's assertions and evals judge LangChain models.

Importing this package loads nothing; each adapter imports its framework when imported.
"""

__all__: list[str] = []
