"""PFL2xx: values that cannot cross the boundary of a process-based task runner."""
