"""The HTTP API, one module per resource.

Each REST resource is a :class:`~server.routes._common.Resource`: its
handlers, and ``operations()``, its rows of the one table of operations
(:mod:`server.openapi`) from which ``server/app.py`` builds both the routes
and the OpenAPI document. Handlers read what they share (settings, store,
sessions, policy, metrics, outbox, reports …) from the app's
:class:`~server.context.Context`.

* ``ops`` — ``/healthz``, ``/metrics``, ``/openapi.json``
* ``sessions`` — ``/v1/sessions``
* ``candidates`` — ``/v1/candidates``
* ``reports`` — a session's report and decisions
* ``catalog`` — ``/v1/jobs`` and ``/v1/banks`` (versioned)
* ``invites`` — the candidate page's one-time code exchange
* ``hr`` — HR sign-in and sign-out (the cookie)
* ``consent`` — the candidate's consent
* ``whip`` — WHIP signaling and admission
* ``events`` — the live event stream (a WebSocket, outside the table)
* ``pages`` — the candidate and HR pages
"""
