from fleetweb_sim.cli import main

raise SystemExit(main())
