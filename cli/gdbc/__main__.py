"""`python -m gdbc` runs the same command as the `gdbc` script."""

import sys

from gdbc.main import main

sys.exit(main())
