"""The soak's simulated meters, in a process of their own so the service's memory is measured alone.

    python -m benchmarks.soak_meters SITE_FOLDER

Serves every Modbus meter of the site (bms_bridge.simulate.modbus_servers, values from the load model)
and counts what it answers: read requests by (unit, function, address, count) per port, and
responses sent (exceptions apart). Talks JSON lines on stdout: {"ready": ...} once listening, then one
{"served": ...} per line "count" read on stdin; stdin closed ends it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bms_bridge.simulate.modbus_servers import SimulatedMeters
from bms_bridge.sites import open_site

READ_FUNCTIONS = (3, 4)


class Tally:
    """What one port answered: requests by block, responses, exception responses."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[int, int, int, int]] = Counter()
        self.responses = 0
        self.exceptions = 0

    def trace(self, sending: bool, pdu: Any) -> Any:
        function = pdu.function_code & 0x7F
        if sending:
            if pdu.function_code & 0x80:
                self.exceptions += 1
            elif function in READ_FUNCTIONS:
                self.responses += 1
        elif function in READ_FUNCTIONS:
            self.requests[(pdu.dev_id, function, pdu.address, pdu.count)] += 1
        return pdu

    def as_json(self, port: int) -> dict[str, Any]:
        return {
            "port": port,
            "responses": self.responses,
            "exceptions": self.exceptions,
            "requests": [[*key, n] for key, n in sorted(self.requests.items())],
        }


async def serve(folder: Path) -> None:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    site = open_site(folder)
    tallies: dict[int, Tally] = {}
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with SimulatedMeters(site) as meters:
        for endpoint in meters.endpoints:
            assert endpoint.server is not None
            tally = tallies[endpoint.port] = Tally()
            # read per connection when a client connects: set before the service connects
            endpoint.server.trace_pdu = tally.trace
        print(json.dumps({"ready": {"ports": sorted(tallies)}}), flush=True)
        while line := await reader.readline():
            if line.strip() == b"count":
                served = [tally.as_json(port) for port, tally in sorted(tallies.items())]
                print(json.dumps({"served": served}), flush=True)


def main() -> None:
    asyncio.run(serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
