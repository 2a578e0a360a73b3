"""Simulated meters for the demo and for tests: a load model, Modbus servers, history, LPWAN uplinks."""

from __future__ import annotations

from bms_bridge.simulate.history import simulated_history
from bms_bridge.simulate.load_model import EPOCH, LoadModel, Scenario
from bms_bridge.simulate.lpwan_uplinks import Uplink, lpwan_uplinks
from bms_bridge.simulate.modbus_servers import SimulatedMeters

__all__ = ["EPOCH", "LoadModel", "Scenario", "SimulatedMeters", "Uplink", "lpwan_uplinks", "simulated_history"]
