from scheduler.cli.app import main

main()
