"""The clinical pages, one module per area: ``notes`` (the list, editor, signing and the rest of
a note's life) and ``pdf`` (the printable note)."""
