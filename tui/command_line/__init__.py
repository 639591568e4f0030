"""``lhc-console`` itself: ``main`` parses and dispatches, ``commands`` runs the reports and
loaders, ``reports`` shapes their JSON, ``output`` prints everything a command says."""
