"""`python -m xorosoft_emulator`: the same as the `cowans-xorosoft-emulator` command."""

import sys

from xorosoft_emulator.cli import main

sys.exit(main())
