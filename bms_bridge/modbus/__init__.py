"""Modbus acquisition: the only package that imports pymodbus.

`acquisition.ModbusAcquisition` runs one poller per device; `acquisition.poll_once` polls every device
once. Serial buses get one lane each (one frame at a time), TCP hosts a cap on requests in flight.
"""
