"""``python -m studies NAME VERB ARGS``: the one entry of the studies (see studies/__init__.py)."""

import sys

from studies import main

sys.exit(main())
