from scheduler.app.entry import main

main()
