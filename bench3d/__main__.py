from bench3d.cli.main import main

main()
