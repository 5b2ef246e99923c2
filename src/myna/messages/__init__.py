"""Messages, streamed chunks and how they merge, content blocks, usage, input coercion.

```python
from myna.messages import AIMessageChunk, HumanMessage

msg = HumanMessage("What is the weather in Paris?")
merged = AIMessageChunk("Sun") + AIMessageChunk("ny")
assert merged.text == "Sunny"
```
"""

from ._blocks import *
from ._blocks import __all__ as _blocks_all
from ._coerce import *
from ._coerce import __all__ as _coerce_all
from ._merge import *
from ._merge import __all__ as _merge_all
from ._messages import *
from ._messages import AUTO_ID_PREFIX, parse_tool_call_chunks
from ._messages import __all__ as _messages_all
from ._split import *
from ._split import __all__ as _split_all
from ._usage import *
from ._usage import __all__ as _usage_all

__all__ = sorted(
    [
        *_blocks_all,
        *_coerce_all,
        *_merge_all,
        *_messages_all,
        *_split_all,
        *_usage_all,
        "parse_tool_call_chunks",
        "AUTO_ID_PREFIX",
    ]
)
