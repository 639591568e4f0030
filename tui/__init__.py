"""lhc-console around the screens and the store, by feature.

- ``shell``: the Textual application (login first, the database opened meanwhile, then home).
- ``command_line``: the ``lhc-console`` entry point, its argument parser, the report and loader
  commands and the one writer everything on the command line prints through.
- ``scripting``: the commands that act as a logged-in user (``--as``): ``user``, ``group``,
  ``role``, ``policy``, ``depgroup``, ``department``, ``review`` and ``apply``.
- ``serving``: ``serve-ssh`` and ``serve-web``, and the console processes they start.

Each package's ``__init__`` stays empty: ``lhc-console`` imports only what a command needs, and
the console paints its login form before the store is loaded.
"""
