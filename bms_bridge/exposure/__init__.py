"""What the BMS sees: point descriptors and live values shared by the BACnet and OPC UA servers."""
