"""`python -m paperboy`: the same CLI as the `paperboy` command."""

from paperboy.cli import main

main()
