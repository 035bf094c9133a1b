"""The demo service's process: ``python -m workbench.demo.service LISTENING_FD``.

Started by :func:`workbench.demo.service.serve`, which binds the socket, passes its file
descriptor, the database URL in the environment, and a pipe on standard input: when that pipe
closes (the parent stopped the service, or is gone), the service shuts down.
"""

from __future__ import annotations

import os
import socket
import sys
import threading


def main(argv: list[str]) -> int:
    import uvicorn

    from workbench.demo.service import DATABASE_ENV
    from workbench.demo.service.app import create_app

    url = os.environ.pop(DATABASE_ENV, "")
    if not url or len(argv) != 1:
        print("usage: started by workbench.demo.serve()", file=sys.stderr)
        return 2
    listener = socket.socket(fileno=int(argv[0]))
    config = uvicorn.Config(
        create_app(url),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # returns when the pipe closes
        server.should_exit = True

    threading.Thread(target=watch_parent, daemon=True).start()
    server.run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
