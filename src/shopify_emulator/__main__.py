"""`python -m shopify_emulator`: the same as the `cowans-shopify-emulator` command."""

import sys

from shopify_emulator.cli import main

sys.exit(main())
