"""The commands that act as a logged-in user (``--as``): ``commands`` registers and runs them,
``users``, ``bulk``, ``config``, ``review`` and ``apply`` do them, ``actor`` logs in and reads
passwords, ``impact`` measures ``--dry-run``, ``output`` shapes what they print."""
