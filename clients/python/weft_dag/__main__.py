import sys

from weft_dag import _main

sys.exit(_main())
