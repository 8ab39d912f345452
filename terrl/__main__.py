from terrl.cli.app import main

main()
