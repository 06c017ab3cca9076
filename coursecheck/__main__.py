from coursecheck.cli import main

raise SystemExit(main())
