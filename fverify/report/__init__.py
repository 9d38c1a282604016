"""Renderings of computed results (text, plots); nothing here computes a metric."""
