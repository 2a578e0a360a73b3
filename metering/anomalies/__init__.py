"""Anomaly rules: pure functions over stored 15-minute intervals and the site model.

`night_flow` finds water points that never stop flowing at night (silent leaks), `after_hours` tenants
whose electricity stays on outside their lease hours; `stuck`, `gaps`, `balance`, `counter_faults`
(resets, decreases and spikes, from the validation's counter faults) and `clock_drift` judge the health
of the meters themselves. Each rule returns `metering.events.Condition`s; thresholds are
`point_mapping.model.anomalies.AnomalyRules` (YAML `anomalies:`), explained in docs/anomalies.md.
"""
