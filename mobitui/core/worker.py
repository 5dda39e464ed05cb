"""The job process's former module name: :mod:`mobitui.core.job_process`.

Kept so that ``python -m mobitui.core.worker`` and imports of the old names
keep working; new code imports :mod:`mobitui.core.job_process`.
"""

from __future__ import annotations

import sys

from mobitui.core.job_process import (  # noqa: F401
    JobProcess,
    JobProcessFailed,
    WorkerFailed,
    event_from_message,
    event_to_message,
    main,
)

event_to_wire = event_to_message
event_from_wire = event_from_message

if __name__ == "__main__":
    sys.exit(main())
