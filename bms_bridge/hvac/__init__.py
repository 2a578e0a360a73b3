"""Wiring of the HVAC rules: site + store → `metering.hvac` inputs → findings stored as events."""
