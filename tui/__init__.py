"""lhc-console's shell: the Textual application, its entry point and the command line."""
