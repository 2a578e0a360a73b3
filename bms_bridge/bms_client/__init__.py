"""BACnet/IP client for the building's BMS (bacpypes3): reads the points of `bms_points` as typed trends.

`chunking` plans ReadPropertyMultiple requests within what each controller accepts, `decode` turns
BACnet values (Schedule, Calendar, binary/multistate/analog) into domain values, `cov` keeps COV
subscriptions renewed on an injected clock, `client` runs it all with bounded concurrency and back-off.
"""
