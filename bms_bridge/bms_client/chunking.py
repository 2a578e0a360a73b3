"""ReadPropertyMultiple requests sized to what a controller accepts (ASHRAE 135 clause 15.7).

Without segmentation a whole answer must fit one APDU of the device's Max_APDU_Length_Accepted (and
of ours). Each property of a plain value costs about `BYTES_PER_RESULT` in the answer (object id 5,
opening/closing tags 2, property id 2, value up to 9 bytes for a tagged REAL or enumeration); the
answer header takes `HEADER_BYTES`. With segmentation the YAML cap alone applies. A device that aborts
anyway (segmentation-not-supported, buffer-overflow) gets its chunk halved at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HEADER_BYTES = 12
BYTES_PER_RESULT = 20
MIN_APDU = 50  # the smallest Max_APDU_Length_Accepted the standard allows (Table 20-?/20.1.2.5)


@dataclass(frozen=True, slots=True)
class DeviceLimits:
    max_apdu: int
    segmentation: bool
    max_properties: int  # the YAML cap

    @property
    def properties_per_request(self) -> int:
        if self.segmentation:
            return self.max_properties
        fits = max(1, (max(self.max_apdu, MIN_APDU) - HEADER_BYTES) // BYTES_PER_RESULT)
        return max(1, min(self.max_properties, fits))


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
