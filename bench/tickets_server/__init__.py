"""A bench-only Django setup for the intake benchmark (``bench/tickets.py``), never deployed.

The application's settings and URLs, plus two views that give the real intake endpoint
something to be compared with in the same server process: ``minimal`` parses the same JSON
body and inserts one row, ``file_ticket`` calls ``gongzhi.tickets.actions.file_ticket``
directly, without the API's authentication, schema and rate limits.
"""
