"""Which code runs each kind of job. A kind missing here fails its jobs with a clear error."""

from cowans.jobs.batch import run_delete, run_update
from cowans.jobs.batch_export import run_export
from cowans.jobs.imports import run_import
from cowans.jobs.pull import KIND as PULL
from cowans.jobs.pull import run_pull
from cowans.jobs.push import KIND as PUSH
from cowans.jobs.push import run_push
from cowans.jobs.runtime import Handler

HANDLERS: dict[str, Handler] = {
    "import.etilize": run_import,
    "import.xorosoft": run_import,
    "batch.update": run_update,
    "batch.delete": run_delete,
    "batch.export": run_export,
    PUSH: run_push,
    PULL: run_pull,
}
