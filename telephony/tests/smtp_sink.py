"""A minimal SMTP server on loopback that keeps every message it is sent, for tests across processes.

with SmtpSink() as sink:
    ... EMAIL_HOST=127.0.0.1 EMAIL_PORT=sink.port EMAIL_USE_TLS=false ...
    sink.messages  # [email.message.Message, ...]
"""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy
from email.message import Message


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self._reply("220 sink ESMTP")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._reply("250 sink")
            elif verb == b"DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                self._reply("250 OK" if self._read_message() else "451 Incomplete")
            elif verb == b"QUIT":
                self._reply("221 Bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self._reply("250 OK")

    def _read_message(self) -> bool:
        lines = []
        while line := self.rfile.readline():
            if line in (b".\r\n", b".\n"):
                self.server.keep(message_from_bytes(b"".join(lines), policy=policy.default))
                return True
            lines.append(line[1:] if line.startswith(b"..") else line)
        return False

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def keep(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def __enter__(self) -> SmtpSink:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
