"""The web app and REST API (issue 11): server-rendered pages with plotly.js charts, /api/v1/,
/api/openapi.json and /metrics, behind sessions or API tokens, with each tenant confined to its own
data by `scope.Scope`."""
