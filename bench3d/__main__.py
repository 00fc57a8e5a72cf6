from bench3d.cli.main import app

app(prog_name="bench3d")
