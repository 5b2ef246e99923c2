"""Run the myna command line: ``python -m myna`` (the same as the ``myna`` script)."""

import sys

from .cli import main

sys.exit(main())
