"""One Textual screen per file, its styles (``.tcss``) beside it. Screens call store services."""
