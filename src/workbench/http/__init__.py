"""Endpoints of any stack: HTTP profiles with the database statements they caused.

The database sees every statement whatever language sent it. ``s.profile_http(url)``
(:func:`~workbench.http.probe.profile_http`) requests an endpoint many times, or under load,
and reads the database's own statement counters around the requests, so a Node, Django, Rails
or Go service (or a Python one in another process) shows its N+1 like code in the kernel does.

=======================  ===============================================================
module                   what it does
=======================  ===============================================================
:mod:`.probe`            ``profile_http``: choosing the engine, warming up, assembling
:mod:`.request`          the request, and how it is shown with its secrets masked
:mod:`.curl`             reading a ``curl`` command line ("Copy as cURL")
:mod:`.sequential`       one client, one request at a time (each request's statements)
:mod:`.wrk`              load through wrk, every request logged by a Lua script
:mod:`.aload`            load through an async httpx client where wrk is not installed
:mod:`.snapshots`        ``pg_stat_statements`` / ``performance_schema`` counters
:mod:`.statements`       counters before, between and after requests, as differences
:mod:`.locustfile`       a Locust file for the same request, for load beyond one machine
=======================  ===============================================================
"""

from __future__ import annotations

from workbench.http.curl import parse_curl
from workbench.http.probe import profile_http
from workbench.http.request import HttpRequest

__all__ = ["HttpRequest", "parse_curl", "profile_http"]
