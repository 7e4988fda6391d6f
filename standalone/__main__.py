from standalone.cli.main import app

app(prog_name="stratus")
