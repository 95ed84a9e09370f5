"""Error codes of the jobs area, and the signals a running job stops with."""

from enum import StrEnum
from typing import Any


class JobErrorCode(StrEnum):
    JOB_NOT_FOUND = "job_not_found"
    JOB_FINISHED = "job_finished"
    JOB_NOT_RETRYABLE = "job_not_retryable"
    UNKNOWN_KIND = "unknown_job_kind"
    INVALID_SCHEDULE = "invalid_schedule"


class JobStopped(Exception):
    """Raised at an item boundary to stop a job; each subclass says what happens next."""


class JobCancelled(JobStopped):
    """A person cancelled the job: it ends as `cancelled`, keeping what it finished (and,
    when the handler says, `result`: what it did before it stopped)."""

    def __init__(self, message: str = "", result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


class JobInterrupted(JobStopped):
    """This worker process is shutting down: the job goes back to the queue as it is."""


class JobLost(JobStopped):
    """Another worker took the job over (ours missed its heartbeats): stop touching it."""


class CompletedWithErrors(Exception):
    """The job went through all its items but some failed: it ends `completed_with_errors`
    with `result` saying which, never as a plain success."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.result = result
