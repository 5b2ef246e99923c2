"""Record/replay cassettes of provider traffic: safe, readable, and faithful to streams.

```python
from myna.cassettes import cassette

with cassette("tests/cassettes/weather.yaml"):          # "once" locally, "none" on CI
    reply = model.invoke("What's the weather in Paris?")
```

Record real traffic once (with a key, on your machine); replay it offline forever. The file is
YAML that reads like the conversation: JSON bodies as structured YAML, SSE streams as one
event per line, secrets scrubbed (and a final scan refuses to write a file that still holds
one). See `Cassette` for the options and `MODES` for the record modes.

Why not vcrpy's httpx stubs: vcrpy reads the whole response body before handing it to the
client and replays it as one block, so a recording blocks the caller until the stream ends and
a replay never exercises the incremental parsing of a stream. myna therefore intercepts at the
same place vcrpy does (``HTTPTransport.handle_request`` / ``AsyncHTTPTransport
.handle_async_request`` of httpx and httpx2) with its own code: a replay yields one wire chunk
per recorded event (optionally paced by the recorded timing), and a recording tees the live
stream, passing each chunk to the caller as it arrives. aiohttp (google-genai's async client,
litellm) gets the same replay and tee at its connector, over an in-memory connection
(``myna/_aiohttp_hook.py``). vcrpy is still used where it fits: its
record-mode names and meaning (``none`` / ``once`` / ``new_episodes`` / ``all``), and
`convert` reads stock vcrpy cassettes (and pydantic-ai, Ruby VCR, httprr ones) into ours.
vcrpy scans every interaction with every matcher for each request; here a request is matched
by a dict lookup on a normalised key, so replay cost does not grow with the cassette.
"""

from ._cassette import MODES, Cassette, cassette, default_record_mode, replaying
from ._convert import convert_cassette, scrub_cassette
from ._errors import (
    CassetteError,
    CassetteMismatch,
    CassetteSecretError,
    CassetteWarning,
    UnplayedInteractions,
)
from ._format import (
    BODY_KINDS,
    FORMAT_VERSION,
    ParsedCassette,
    clear_cache,
    decode_body,
    dump_cassette,
    encode_body,
    load_cassette,
    load_parsed,
    loads_cassette,
    new_cassette,
    sse_bytes,
)
from ._match import DEFAULT_IGNORE, DEFAULT_MATCH_ON
from ._refresh import (
    RefreshResult,
    arefresh,
    cassette_age,
    cassette_max_age,
    parse_age,
    refresh,
)
from ._scrub import PATTERNS, REDACTED, SECRET_HEADERS, Finding, Scrubber, find_secrets
from ._show import provider_of, render_cassette
from ._store import (
    UsageRecord,
    finish_usage_log,
    note_usage,
    read_usage_record,
    set_usage_log,
    usage_log,
)
from ._to_script import to_script
from ._verify import Drift, VerifyReport, averify, verify

__all__ = [
    "BODY_KINDS",
    "Cassette",
    "CassetteError",
    "CassetteMismatch",
    "CassetteSecretError",
    "CassetteWarning",
    "DEFAULT_IGNORE",
    "DEFAULT_MATCH_ON",
    "Drift",
    "FORMAT_VERSION",
    "Finding",
    "MODES",
    "PATTERNS",
    "ParsedCassette",
    "REDACTED",
    "RefreshResult",
    "SECRET_HEADERS",
    "Scrubber",
    "UnplayedInteractions",
    "UsageRecord",
    "VerifyReport",
    "arefresh",
    "averify",
    "cassette",
    "cassette_age",
    "cassette_max_age",
    "clear_cache",
    "convert_cassette",
    "decode_body",
    "default_record_mode",
    "dump_cassette",
    "encode_body",
    "find_secrets",
    "finish_usage_log",
    "load_cassette",
    "load_parsed",
    "loads_cassette",
    "new_cassette",
    "note_usage",
    "parse_age",
    "provider_of",
    "read_usage_record",
    "refresh",
    "render_cassette",
    "replaying",
    "scrub_cassette",
    "set_usage_log",
    "sse_bytes",
    "to_script",
    "usage_log",
    "verify",
]
