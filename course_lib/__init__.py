"""Simulation library for the distributed-systems course."""
