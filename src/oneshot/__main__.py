from oneshot.cli import main
import sys

sys.exit(main())
