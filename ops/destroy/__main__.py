"""``python -m ops.destroy``: the command line of ``ops.destroy.cli``."""

import sys

from ops.destroy.cli import main

sys.exit(main(sys.argv[1:]))
