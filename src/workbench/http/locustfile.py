"""``workbench locustfile URL``: the same request as a Locust file, for load beyond one machine.

Load from one machine is what ``s.profile_http(..., concurrency=C)`` measures; past that, a
distributed engine runs it: Locust, with a master and workers on as many machines as needed.
The file written here sends the request the profile sends, with no wait between requests,
and logs every request (start, latency, status, error) to ``workbench-requests-<pid>.csv`` in
the folder it runs in (``WORKBENCH_LOCUST_LOG_DIR`` overrides it), one file per Locust
process, which ``wb.Profile.from_locust(folder)`` reads back exactly; Locust's own
``--csv`` statistics read back too (``wb.Profile.from_locust(prefix)``), approximately.

Secrets stay out of the file: a header or query parameter named like a secret is read from an
environment variable (``WORKBENCH_HEADER_AUTHORIZATION``, ``WORKBENCH_QUERY_TOKEN``) that the
file's docstring lists; the URL's user and password are not written at all.

>>> from workbench.http.request import HttpRequest
>>> text = locustfile_text(HttpRequest.build("http://127.0.0.1:8000/api/users?token=s3cret",
...                                          headers={"Authorization": "Bearer s3cret"}))
>>> "s3cret" in text, "WORKBENCH_HEADER_AUTHORIZATION" in text
(False, True)
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from workbench.http.request import HttpRequest, is_secret_name

__all__ = ["locustfile_text", "secret_variables", "write_locustfile"]

_TEMPLATE = '''"""Load for {line}: written by `workbench locustfile`.

Run it (one machine; add --master / --worker for several):
    locust -f {filename} --host {host} --headless -u 50 -r 10 -t 60s --csv results/run
{variables}
Read it back into the workbench (its charts, comparisons and report):
    wb.Profile.from_locust(".")             # every request, from the logs this file writes
    wb.Profile.from_locust("results/run")   # Locust's --csv statistics (reconstructed)
"""

import csv
import os

from locust import HttpUser, constant, events, task

METHOD = {method!r}
PATH = {path}
NAME = {name!r}
HEADERS = {headers}
BODY = {body!r}


class Endpoint(HttpUser):
    """Sends the request again as soon as its answer is read (no think time)."""

    wait_time = constant(0)

    @task
    def call(self):
        self.client.request(METHOD, PATH, headers=HEADERS, data=BODY, name=NAME)


_log = {{}}


@events.request.add_listener
def workbench_log(request_type, name, response_time, response_length, response=None,
                  exception=None, start_time=None, **kwargs):
    """One line per request, for wb.Profile.from_locust."""
    if "writer" not in _log:
        folder = os.environ.get("WORKBENCH_LOCUST_LOG_DIR", ".")
        path = os.path.join(folder, f"workbench-requests-{{os.getpid()}}.csv")
        _log["file"] = open(path, "w", newline="", encoding="utf-8")
        _log["writer"] = csv.writer(_log["file"])
        _log["writer"].writerow({columns!r})
    started = start_time if start_time is not None else 0.0
    status = getattr(response, "status_code", 0) or 0
    error = "" if exception is None else " ".join(str(exception).split())[:300]
    _log["writer"].writerow(
        [f"{{started * 1000:.3f}}", request_type, name, f"{{response_time:.3f}}", status, error]
    )


@events.quitting.add_listener
def workbench_close(environment, **kwargs):
    if "file" in _log:
        _log["file"].close()
'''


def secret_variables(request: HttpRequest) -> dict[str, str]:
    """Environment variable -> the header or query parameter it stands for."""
    out = {}
    for name, _value in request.headers:
        if is_secret_name(name):
            out[_variable("HEADER", name)] = f"header {name}"
    for name, _value in parse_qsl(urlsplit(request.url).query, keep_blank_values=True):
        if is_secret_name(name):
            out[_variable("QUERY", name)] = f"query parameter {name}"
    return out


def locustfile_text(request: HttpRequest, *, filename: str = "locustfile.py") -> str:
    """The Locust file for ``request`` (see the module's docstring)."""
    from workbench.profiling.locust import REQUEST_LOG_COLUMNS

    parts = urlsplit(request.url)
    host = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
    headers = (
        "{"
        + ", ".join(
            f"{name!r}: os.environ[{_variable('HEADER', name)!r}]"
            if is_secret_name(name)
            else f"{name!r}: {value!r}"
            for name, value in request.headers
            if name.lower() not in ("host", "content-length")
        )
        + "}"
    )
    pieces: list[str] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        key = quote(name, safe="")
        if is_secret_name(name):
            pieces.append(f'"{key}=" + os.environ[{_variable("QUERY", name)!r}]')
        else:
            pieces.append(repr(f"{key}={quote(value, safe='/:,')}"))
    path = repr(parts.path or "/")
    if pieces:
        path = f'{path} + "?" + "&".join([{", ".join(pieces)}])'
    variables = secret_variables(request)
    listed = "".join(f"    {v}  ({what})\n" for v, what in variables.items())
    shown_variables = (
        f"Secrets come from the environment (set them before running):\n{listed}"
        if variables
        else ""
    )
    return _TEMPLATE.format(
        line=request.line,
        filename=filename,
        host=host,
        variables=shown_variables,
        method=request.method,
        path=path,
        name=urlsplit(request.shown_url).path or "/",
        headers=headers,
        body=request.body,
        columns=REQUEST_LOG_COLUMNS,
    )


def write_locustfile(request: HttpRequest, path: str | Path = "locustfile.py") -> Path:
    """Write :func:`locustfile_text` to ``path`` and return it."""
    target = Path(path)
    target.write_text(locustfile_text(request, filename=target.name), encoding="utf-8")
    return target


def _variable(kind: str, name: str) -> str:
    return f"WORKBENCH_{kind}_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
