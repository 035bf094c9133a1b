"""The kernel's stop button in a real kernel: the query is cancelled on the server and the
cell shows one line, not a traceback through the workbench."""

from __future__ import annotations

import time
from typing import Any

import pytest


@pytest.mark.slow
def test_interrupting_a_query_shows_one_line(pg_url: str) -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive(
            f"import workbench as wb\ns = wb.connect({pg_url!r}, timeout=60)", timeout=120
        )
        msg_id = kc.execute("s.query('SELECT pg_sleep(20)')")
        time.sleep(2.0)
        started = time.monotonic()
        km.interrupt_kernel()
        error: dict[str, Any] | None = None
        while True:
            message = kc.get_iopub_msg(timeout=30)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "error":
                error = message["content"]
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
        assert time.monotonic() - started < 10
        assert error is not None and error["ename"] == "QueryCancelled"
        assert len(error["traceback"]) == 1, error["traceback"]
        assert "cancelled on the server after" in error["traceback"][0]
        reply = kc.execute_interactive("print(s.query('SELECT 1 AS one').one.tolist())", timeout=60)
        assert reply["content"]["status"] == "ok"  # the session is still usable
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
