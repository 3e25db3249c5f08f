from nsroot.cli import main

main()
