"""The two comparison views of the intake benchmark."""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

# Created by the benchmark before the server starts; never part of the application schema.
PROBE_TABLE = "bench_intake_probe"


@csrf_exempt
@require_POST
def minimal(request: HttpRequest) -> JsonResponse:
    """The floor: parse the body the intake would get and insert one row, in a transaction."""
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PROBE_TABLE} (description, created_at) VALUES (%s, %s) RETURNING id",  # noqa: S608
            [str(body.get("description", ""))[:200], timezone.now()],
        )
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


@csrf_exempt
@require_POST
def file_ticket(request: HttpRequest) -> JsonResponse:
    """The intake action alone: the same body, straight into ``actions.file_ticket``."""
    from gongzhi.housing.models import Building, Compound, Unit
    from gongzhi.orgs.models import ServiceCategory
    from gongzhi.tickets import actions

    body = json.loads(request.body)

    def get(model: type, key: str) -> object:
        return model.objects.get(pk=body[key]) if body.get(key) else None  # type: ignore[attr-defined]

    ticket = actions.file_ticket(
        None,
        channel="api",
        category=ServiceCategory.objects.get(code=body["category"]),
        description=body["description"],
        compound=get(Compound, "compound"),  # type: ignore[arg-type]
        building=get(Building, "building"),  # type: ignore[arg-type]
        unit=get(Unit, "unit"),  # type: ignore[arg-type]
        reporter_phone=body.get("reporter_phone", ""),
        attributes=body.get("attributes") or {},
    )
    return JsonResponse({"id": ticket.pk, "token": ticket.token}, status=201)
