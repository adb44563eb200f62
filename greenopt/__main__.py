"""`python -m greenopt` runs the command-line front end."""

import sys

from greenopt.cli import main

sys.exit(main())
