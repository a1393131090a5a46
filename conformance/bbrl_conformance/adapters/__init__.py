"""Adapters: modules that expose another package's classes under the suite's names."""
