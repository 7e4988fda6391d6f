from stratus.cli.main import app

app(prog_name="stratus")
