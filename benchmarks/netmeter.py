"""A byte-counting TCP proxy on 127.0.0.1: the bytes a phone would really receive and send,
headers included, for every request of the page and of its service worker alike."""

from __future__ import annotations

import asyncio
import threading


class ByteCounter:
    """Forwards 127.0.0.1:<port> to ``upstream`` (host, port), counting bytes in each direction."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.down = 0  # server -> browser
        self.up = 0  # browser -> server
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.down = self.up = 0

    def __enter__(self) -> ByteCounter:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("byte counter did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pump(client_reader, server_writer, "up"),
            self._pump(server_reader, client_writer, "down"),
            return_exceptions=True,
        )

    async def _pump(self, reader, writer, direction: str) -> None:
        try:
            while data := await reader.read(65536):
                if direction == "down":
                    self.down += len(data)
                else:
                    self.up += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
