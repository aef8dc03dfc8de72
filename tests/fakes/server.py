"""Run an ASGI fake on a loopback port, in a thread, in the current event loop, or as a process.

As a process (for benchmarks):
    python -m tests.fakes.server telegram --port 0 --token 123:TEST --rate 1000
prints the base URL on the first stdout line, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0


def _bind(port: int) -> socket.socket:
    # Binding ourselves (rather than letting uvicorn do it) tells us the port picked for 0
    # before the server starts, and the listen backlog holds early connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it Nagle and delayed ACKs add ~40 ms per answer.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}"


def _server(app: ASGIApp, lifespan: str = "off") -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan=lifespan,  # type: ignore[arg-type]
        log_config=None,  # leave the test run's logging alone
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,  # long polls must not hold up shutdown
    )
    return uvicorn.Server(config)


@contextmanager
def serve(app: ASGIApp, *, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 from a background thread; yield its base URL."""
    sock = _bind(port)
    server = _server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fake-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.005)
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        sock.close()


@asynccontextmanager
async def aserve(app: ASGIApp, *, port: int = 0, lifespan: str = "off") -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 as a task of the running event loop; yield its base URL.

    Loa's own app needs `lifespan="on"` (it opens its store then); the fakes have none.
    """
    sock = _bind(port)
    server = _server(app, lifespan)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("fake server did not start")
            await asyncio.sleep(0.005)
        yield _url(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.server")
    parser.add_argument("fake", choices=["telegram", "zalo"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="123:TEST", help="Telegram bot token")
    parser.add_argument("--rate", type=int, default=30, help="Telegram messages/s overall")
    parser.add_argument("--per-chat", type=int, default=1, help="Telegram messages/s per chat")
    parser.add_argument("--zalo-rate", type=int, default=50, help="Zalo calls/s per endpoint")
    return parser.parse_args(argv)


def _build(args: argparse.Namespace) -> ASGIApp:
    # Imported here so that `serve` does not drag both fakes into every test module.
    if args.fake == "telegram":
        from tests.fakes.telegram import FakeTelegram

        fake = FakeTelegram(
            args.token, overall_per_second=args.rate, per_chat_per_second=args.per_chat
        )
        return fake.app
    from tests.fakes.zalo import FakeZalo

    return FakeZalo(per_second=args.zalo_rate).app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve one fake until interrupted, announcing its URL on stdout line 1."""
    args = _parse(argv)
    app = _build(args)
    sock = _bind(args.port)
    sys.stdout.write(_url(sock) + "\n")
    sys.stdout.flush()
    # In the main thread uvicorn handles SIGINT and SIGTERM with a clean shutdown.
    _server(app).run(sockets=[sock])


if __name__ == "__main__":
    main()
