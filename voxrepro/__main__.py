from voxrepro.cli import main

main()
