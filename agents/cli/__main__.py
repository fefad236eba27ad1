"""``python -m agents.cli`` runs the ``imbalance-gym`` command line."""

import sys

from agents.cli import main

sys.exit(main())
