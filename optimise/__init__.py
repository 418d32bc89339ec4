"""Allocation LP: build, solve and extract plans of staff hours and DFG capital."""
