from paperboy.cli import main

main()
