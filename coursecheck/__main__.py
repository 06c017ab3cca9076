from coursecheck.cli import console_main

raise SystemExit(console_main())
