"""Benchmarks at company scale: a seeded directory generator, the scenario runner and its floors."""
