import sys

from fverify.cli import main

sys.exit(main())
