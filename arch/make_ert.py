"""Write an architecture's energy and area tables from the shipped 45 nm figures (the `paper` energy preset):
`python arch/make_ert.py [--check] [ARCH_DIR ...]`. The implementation and its documentation: estimation/paper.py."""

import sys

from estimation.paper import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
