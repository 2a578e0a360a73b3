"""Log a failure once per change of state, with a count, instead of a traceback per request.

While a database is down every uplink fails the same way; one line when it starts failing, one when it
recovers (with how many were refused meanwhile) tells an operator everything, and a full disk is not
filled further with the same traceback.
"""

from __future__ import annotations

import logging


class FailureLog:
    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log, self._what = log, what
        self.failing = False
        self.count = 0  # failures since the state last changed

    def failed(self, error: BaseException) -> None:
        if not self.failing:
            self.failing, self.count = True, 0
            kind = type(error).__name__
            self._log.error("%s failed: %s: %s (logged once until it recovers)", self._what, kind, error)
        self.count += 1

    def succeeded(self) -> None:
        if self.failing:
            self._log.warning("%s works again after %d failures", self._what, self.count)
            self.failing, self.count = False, 0
