"""Finished jobs with an image, and counting the gallery's tiles."""

from tests.jobs.factories import finish, make_jobs


def made(owner, prompt, **fields):
    return finish(make_jobs(owner, prompt=prompt, **fields)[0])


def tiles(html):
    return html.count('data-image-id="')
