"""The Textual application: ``app.LhcConsole`` and ``app.run_console``."""
