"""``serve-ssh`` and ``serve-web``: ``commands`` parses and starts them, ``ssh`` and ``web`` are
the servers, ``pty_session`` and ``session_child`` run one SSH connection's console on its own
pseudo-terminal, ``idle`` closes a console nobody types in."""
