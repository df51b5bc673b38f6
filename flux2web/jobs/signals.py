"""The one event apps above jobs may follow without jobs knowing them: why it is a signal
and not a call is in docs/architecture.md (Layers). Nothing else plugs into jobs."""

from django.dispatch import Signal

# Sent once when a job's images are stored and the job has succeeded; keyword: job_id.
# Receivers must be quick and must not raise: the mirror task logs what they raise.
job_images_stored = Signal()
