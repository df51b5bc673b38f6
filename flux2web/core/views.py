"""Health endpoint for load balancers and for people asking "is the worker running?"."""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from flux2web.core.models import Heartbeat


@require_GET
@never_cache
@login_not_required
def healthz(request):
    try:
        beat = Heartbeat.objects.worker()
    except DatabaseError:
        return JsonResponse({"database": "error"}, status=503)
    worker = "never seen" if beat is None else ("ok" if beat.is_fresh else "stale")
    return JsonResponse(
        {
            "database": "ok",
            "worker": worker,
            "worker_seen_at": beat.seen_at.isoformat() if beat else None,
        }
    )
