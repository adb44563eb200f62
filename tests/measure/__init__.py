"""Tests of the measurement area: meters, runner, statistics, carbon, store, `greenopt measure`."""
