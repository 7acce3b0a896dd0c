"""Re-encrypt every stored document file (and its extracted text) under the newest key.

    manage.py rotate_document_keys             # in this process, with progress
    manage.py rotate_document_keys --background

Put the new key first in DOCUMENT_ENCRYPTION_KEYS and keep the old ones after it: files stay
readable throughout, the app keeps serving, and the old keys can be removed once this reports
nothing left. Interrupted, it is simply run again: it picks up the versions still under an old
key, and a file is only ever replaced after its copy under the new key is recorded.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from documents import crypto, services
from documents.tasks import rotate_document_keys


class Command(BaseCommand):
    help = "Re-encrypt every stored document file with the newest key in DOCUMENT_ENCRYPTION_KEYS."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--background", action="store_true", help="queue the work for a Celery worker")

    def handle(self, *args, background: bool, **options) -> None:
        total = services.versions_to_rotate().count()
        key = crypto.current_key_id()
        if not total:
            self.stdout.write(self.style.SUCCESS(f"Every document file is already under key {key}."))
            return
        if background:
            rotate_document_keys.delay()
            self.stdout.write(f"Queued: {total} file(s) to re-encrypt under key {key}; the worker logs its progress.")
            return
        done = services.rotate_keys(progress=lambda count: self.stdout.write(f"  {count}/{total} re-encrypted"))
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {done} file(s) under key {key}."))
