"""What a job asked for, as the values a generation form starts from (remix, retry)."""

from __future__ import annotations


def initial_from_job(job) -> dict:
    """The form's values for remixing a job: everything it asked for, the seed only if fixed."""
    return {
        "prompt": job.prompt,
        "model": job.model,
        "provider": str(job.requested_provider_id or ""),
        "aspect_ratio": job.aspect_ratio,
        "width": job.width or "",
        "height": job.height or "",
        "resolution": job.resolution,
        "seed": "" if job.seed_random else (job.seed or ""),
        "prompt_upsampling": "on" if job.prompt_upsampling else "",
        "nsfw_checker": "on" if job.nsfw_checker else "",
        "route": job.route,
        "reference_urls": "\n".join(job.reference_urls),
        "count": 1,
    }
