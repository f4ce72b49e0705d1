"""Concurrent HTTP clients for the intake benchmark: POST JSON bodies for a fixed time.

    python bench/tickets_load.py --url http://127.0.0.1:8765/api/v1/tickets --bodies bodies.json \
        --concurrency 8 --seconds 20 [--warmup 2] [--header "X-Api-Key: …"] --result out.json

Imports no Django. Each client is a thread with its own connection per request (gunicorn's
sync workers close the connection after every response); the bodies are cycled and each one
gets a fresh reporter phone, so no two requests look alike to a duplicate check or a
per-phone limit. Requests finished during the warm-up are not counted.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from measure import summarise_ms


def run(
    url: str,
    bodies: list[dict[str, Any]],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    headers: dict[str, str],
) -> dict[str, Any]:
    target = urlparse(url)
    host, port, path = target.hostname or "127.0.0.1", target.port or 80, target.path
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    first_errors: list[str] = []
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + seconds

    def client() -> None:
        while True:
            n = next(counter)
            body = dict(bodies[n % len(bodies)])
            body["reporter_phone"] = f"139{n % 10**8:08d}"
            data = json.dumps(body, ensure_ascii=False).encode()
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            try:
                conn = http.client.HTTPConnection(host, port, timeout=60)
                conn.request("POST", path, body=data, headers={"Content-Type": "application/json", **headers})
                response = conn.getresponse()
                payload = response.read()
                conn.close()
                status = response.status
            except OSError as exc:
                with lock:
                    failures[type(exc).__name__] += 1
                continue
            t1 = time.perf_counter()
            if t0 < measure_from:
                continue
            with lock:
                statuses[status] += 1
                if status in (200, 201):
                    latencies.append(t1 - t0)
                elif len(first_errors) < 5:
                    first_errors.append(f"{status}: {payload[:300].decode(errors='replace')}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - measure_from
    ok = len(latencies)
    return {
        "url": path,
        "concurrency": concurrency,
        "seconds": round(wall, 3),
        "requests_ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "connection_failures": dict(failures),
        "first_errors": first_errors,
        "requests_per_s": round(ok / wall, 1) if wall > 0 else None,
        "latency": summarise_ms(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True, help="JSON list of request bodies")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    bodies = json.loads(args.bodies.read_text())
    result = run(
        args.url,
        bodies,
        concurrency=args.concurrency,
        seconds=args.seconds,
        warmup=args.warmup,
        headers=headers,
    )
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
