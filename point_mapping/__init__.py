"""The site model: YAML site folders loaded into frozen models with file:line:col errors, stable ids."""
