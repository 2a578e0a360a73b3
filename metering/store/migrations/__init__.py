"""Alembic migrations, shipped inside the package (a package so that setuptools installs them)."""
