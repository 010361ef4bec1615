"""``python -m coordinator.service``: the same as ``nzd coordinator run``."""

import sys

from coordinator.service._run import main

sys.exit(main())
