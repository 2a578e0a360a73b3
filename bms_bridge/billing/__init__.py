"""The billing side of the running service: delivery to the billing system and the close/export schedules."""
