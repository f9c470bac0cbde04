"""``python -m pepperpy.dev doctor``: the same as the ``pepperpy`` command."""

import sys

from pepperpy.dev._cli import main

sys.exit(main())
