"""Events other apps may follow without the jobs app knowing them (imports run one way)."""

from django.dispatch import Signal

# Sent once when a job's images are stored and the job has succeeded; keyword: job_id.
# Receivers must be quick and must not raise: the mirror task logs what they raise.
job_images_stored = Signal()
