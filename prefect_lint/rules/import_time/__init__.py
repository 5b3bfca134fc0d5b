"""PFL4xx: Prefect calls in code that runs when a module is imported."""
