"""Named crash points for the reliability tests (as etcd's and TiKV's failpoints).

With DESCRIPT_IAC_FAILPOINT=NAME:N in the environment, the N-th time the code passes the point
NAME the process kills itself with SIGKILL: no cleanup, no finally blocks, exactly as a power cut
or an OOM kill. Unset (always, in normal use), a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
from collections import Counter

ENV = "DESCRIPT_IAC_FAILPOINT"
POINTS = (
    "after_intent",  # the intent is journaled, the POST not sent
    "after_post",  # the POST returned, its job id not journaled
    "after_job_recorded",  # the job id is journaled
    "mid_poll",  # a poll round returned, its results not journaled
    "after_job_stopped",  # a stopped job's result is journaled
    "before_fold",  # the run ends: the journal is about to be folded
    "after_fold_write",  # the document is written, the journal not yet removed
)
_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    _hits[name] += 1
    if _hits[name] == int(count or 1):
        import signal  # (only under a test's failpoint: every plan imports this module)

        os.kill(os.getpid(), signal.SIGKILL)
