import sys

from minidl_gui.app import main

sys.exit(main())
