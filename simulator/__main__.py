"""``python -m simulator`` runs the ``rapport`` command."""

from simulator.cli import main

raise SystemExit(main())
