"""The ``myna`` command line: emulator server, cassette tools, evals."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    from ..emulators import PROVIDER_HOSTS, client_guide, serve
    from ..fakes import load_script

    known = sorted({*PROVIDER_HOSTS, "azure_openai"})
    if args.provider is not None and args.provider not in known:
        import difflib

        from ..exceptions import UserError

        close = difflib.get_close_matches(args.provider, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UserError(
            f"Unknown provider {args.provider!r} for 'myna serve'.{hint} Known: {', '.join(known)}."
        )
    script = load_script(args.script) if args.script else []
    options = {"models": args.model} if args.model else {}
    server = serve(
        args.provider,
        script,
        host=args.host,
        port=args.port,
        cycle=args.cycle,
        chunking=int(args.chunking) if args.chunking.isdigit() else args.chunking,
        require_auth=not args.no_auth,
        event_delay=args.event_delay,
        verbose=args.verbose,
        **options,
    )
    # the base URL alone on the first line, for scripts (URL=$(myna serve ... | head -1));
    # then where each client family points, for the person reading the terminal (stderr
    # stays for script errors)
    print(server.base_url, flush=True)
    print(client_guide(args.provider, server.base_url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``myna``."""
    parser = argparse.ArgumentParser(prog="myna", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run a provider emulator on loopback and print its base URL",
        description="Answer provider API requests from a script, on a real local port.",
    )
    serve.add_argument(
        "provider",
        nargs="?",
        help="openai, anthropic, google_genai, ollama, bedrock, an OpenAI-compatible preset: "
        "serve only that API (default: every provider, each at its own paths)",
    )
    serve.add_argument(
        "--model",
        action="append",
        help="a model name the model endpoints list (GET /v1/models, /api/tags, ...); "
        "repeat for more. Default: the names the script and the requests use",
    )
    serve.add_argument("--script", help="YAML script of replies (see fixtures/scripts/)")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--cycle", action="store_true", help="repeat the script forever")
    serve.add_argument("--chunking", default="words", help="words, chars, or a chunk size")
    serve.add_argument("--event-delay", type=float, default=0.0, help="seconds between events")
    serve.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    serve.add_argument("--verbose", action="store_true", help="log each request")
    serve.set_defaults(run=_serve)

    from ._cassettes import add_commands as add_cassette_commands
    from ._eval import add_commands as add_eval_commands

    add_cassette_commands(commands)
    add_eval_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``myna`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except Exception as exc:
        from ..exceptions import MynaError

        if isinstance(exc, MynaError):
            print(f"myna: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
