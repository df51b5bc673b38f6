"""What a job asked for, as the values a generation form starts from (remix, retry)."""

from __future__ import annotations

import dataclasses

from flux2web.providers import catalog


def initial_from_job(job) -> dict:
    """The form's values for remixing a job: everything it asked for, the seed only if
    fixed. The form's fields carry the request's names (GenerationRequest), a vendor
    option's its Option's name."""
    request = job.generation_request()
    initial = {}
    for field in dataclasses.fields(request):
        value = getattr(request, field.name)
        if isinstance(value, bool):
            value = "on" if value else ""
        elif isinstance(value, tuple):  # the references, one per line
            value = "\n".join(value)
        initial[field.name] = "" if value is None else value
    known = catalog.every_option()
    for name, value in initial.pop("options").items():
        initial[name] = known[name].form_value(value) if name in known else value
    del initial["callback_url"]
    return {
        **initial,
        "model": job.model,
        "provider": str(job.requested_provider_id or ""),
        "seed": "" if job.seed_random else (job.seed or ""),
        "count": 1,
    }
