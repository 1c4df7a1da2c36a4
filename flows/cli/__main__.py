"""`python -m flows.cli`: the `chorus` command line."""

from flows.cli.main import app

app()
