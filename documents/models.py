from __future__ import annotations

# Models arrive with this app's issue.
