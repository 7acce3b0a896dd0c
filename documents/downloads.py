"""The HTTP answer that carries a version's decrypted bytes, streamed."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from documents.models import DocumentVersion

# Types a browser shows itself without running anything of the file's: only these are ever
# answered inline (a preview); everything else is an attachment.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})


def file_response(version: DocumentVersion, chunks: Iterator[bytes], *, inline: bool) -> StreamingHttpResponse:
    inline = inline and version.mime_type in INLINE_TYPES
    response = StreamingHttpResponse(chunks, content_type=version.mime_type)
    response["Content-Length"] = str(version.size)
    response["Content-Disposition"] = content_disposition_header(not inline, version.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
