"""Run the myna command line: ``python -m myna.cli``."""

import sys

from . import main

sys.exit(main())
