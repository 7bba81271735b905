"""Use cases: plain arguments in, flush (never commit); the view commits once."""
