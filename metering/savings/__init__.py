"""Measured savings and forecasts: a baseline of daily use against degree days and working days.

Pure: plain values in, plain values out (the regression is statsmodels' OLS). `daily` turns 15-minute
intervals and outdoor temperatures into days, `baseline` fits and judges the model (ASHRAE Guideline 14
figures), `measured` compares a period after a measure with the baseline's prediction, `forecast`
projects the rest of a month and flags days outside their prediction interval. docs/savings.md.
"""
