"""The studio: where a signed-in team member writes prompts and watches jobs."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from flux2web.core.models import Heartbeat


@require_GET
def home(request):
    beat = Heartbeat.objects.filter(name="worker").first()
    return render(
        request,
        "studio/home.html",
        # Jobs only move while a worker runs: say so instead of letting them sit silently.
        {"worker_online": beat is not None and beat.is_fresh},
    )
