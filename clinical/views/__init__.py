"""The clinical pages, one module per area: ``notes`` (the list, editor, signing and the rest of
a note's life), ``pdf`` (the printable note), ``note_templates`` (the practice's templates) and
``chart`` (the encounters, notes and claims tabs of a patient's page)."""
