"""``python -m tui`` runs the same entry point as the ``lhc-console`` script."""

from tui.command_line.main import main

raise SystemExit(main())
