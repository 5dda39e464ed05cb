import sys

from mobitui.cli import main

sys.exit(main())
