"""uvicorn's h11 protocol with a deadline for request headers (`CREDLEDGER_REQUEST_TIMEOUT`).

uvicorn closes a keep-alive connection that stays silent, but every byte received resets
that timer, so a client sending its headers a byte every few seconds (slowloris) holds a
connection forever; enough such clients hold them all. Here the headers of each request must
be complete within `header_timeout` seconds of the moment the server starts waiting for them
(the connection opening, or the end of the previous answer on a keep-alive connection). Bytes
trickling in never move that deadline. A request whose headers are complete is not timed:
its body and its handling are the app's business.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol
from uvicorn.server import ServerState

DEFAULT_HEADER_TIMEOUT = 30.0


class HeaderTimeoutH11Protocol(H11Protocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = header_timeout
        self.header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start the next (pipelined) request
        self._follow_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(400, msg)

    def _follow_headers(self) -> None:
        """A deadline runs exactly while the server waits for a request's headers: h11 keeps
        the client in IDLE until they are complete, and moves it back there only when a new
        request may start (both sides done with the previous one)."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if not waiting:
            self._cancel_deadline()
        elif self.header_deadline is None:
            self.header_deadline = self.loop.call_later(self.header_timeout, self._timed_out)

    def _cancel_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _timed_out(self) -> None:
        self.header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        client = "{}:{} - ".format(*self.client) if self.client else ""
        self.logger.info(
            "%sRequest headers not complete in %gs: closing", client, self.header_timeout
        )
        if self.conn.trailing_data[0]:  # part of a request came: say why (RFC 9110 §15.5.9)
            self._answer_and_close(408, "Request headers not complete in time.")
        else:  # nothing came at all: close quietly, as for an idle keep-alive connection
            self.transport.close()

    def _answer_and_close(self, status: int, msg: str) -> None:
        """A plain-text answer from the server itself, then close (uvicorn's 400 plus the
        headers every answer of ours carries)."""
        body = msg.encode("ascii")
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"connection", b"close"),
        ]
        try:
            response = h11.Response(
                status_code=status, headers=headers, reason=STATUS_PHRASES[status]
            )
            self.transport.write(self.conn.send(response) or b"")
            self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
            self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:  # an answer had already begun: nothing more to say
            pass
        self.transport.close()
