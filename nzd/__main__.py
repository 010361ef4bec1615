from nzd.cli import main

main()
