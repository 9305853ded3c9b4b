"""``python -m knowledge.eval [--split dev|test|all] [--json PATH]``."""

from __future__ import annotations

import sys

from knowledge.eval.runner import main

if __name__ == "__main__":
    sys.exit(main())
