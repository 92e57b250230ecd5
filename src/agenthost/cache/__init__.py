"""Storage for the result cache (the pipeline's stage 2 is ``execution/cache.py``)."""
