from scheduler.app.cli import main

main()
