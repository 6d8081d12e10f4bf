"""Development only: `make run`'s local stack, the sample service database and the providers'
sandboxes. The worker, the API and `starter.py` never import from here; the Compose stack uses
the sample schema once, to create an empty service database for a trial."""
