"""Jobs: every long operation as a persisted spec that carries all its parameters, so that it
can be shown, retried and, after a crash, found as interrupted (DESIGN.md sections 1 and 7)."""
from core.jobs.store import (cancel_queued, create_job, get_job, list_jobs,  # noqa: F401
                             mark_interrupted, run_job)
